/*
 * sign_alibaba.c: Alibaba's signatures: the VOD RPC signature (HMAC-SHA1,
 * SignatureVersion 1.0) and OSS header signatures V1 and V4
 * (OSS4-HMAC-SHA256). Pure: no I/O and no clock; the caller passes the time.
 *
 * Interface: cloud_ali_rpc_canonical_query, cloud_ali_rpc_string_to_sign,
 * cloud_ali_rpc_signature, cloud_ali_rpc_signed_query,
 * cloud_oss_v1_string_to_sign, cloud_oss_v1_authorization,
 * cloud_oss_v4_canonical_request, cloud_oss_v4_string_to_sign,
 * cloud_oss_v4_authorization.
 */
#include "cloud/cloud_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ================================================================ Alibaba RPC
 */

int
cloud_ali_rpc_canonical_query(const struct cloud_kv *params, size_t n,
			      struct buf *out)
{
	struct cloud__pair *v = NULL;
	size_t m = 0;
	int rc = 0;

	if (n > CLOUD_MAX_PAIRS)
		return ERR_LIMIT;
	if (n > 0 && params == NULL)
		return ERR_INPUT;
	if (n == 0)
		return 0;
	v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		if (params[i].key == NULL || params[i].value == NULL ||
		    params[i].value[0] == '\0')
			continue;
		v[m].name = cloud__enc_dup(params[i].key);
		v[m].value = cloud__enc_dup(params[i].value);
		m++;
		if (v[m - 1].name == NULL || v[m - 1].value == NULL) {
			rc = ERR_LIMIT;
			goto out;
		}
	}
	/* Encoding keeps the order of the ASCII names the API uses. */
	qsort(v, m, sizeof(*v), cloud__pair_cmp);
	for (size_t i = 0; i < m; i++)
		if ((rc = buf_printf(out, "%s%s=%s", i > 0 ? "&" : "",
				     v[i].name, v[i].value)) != 0)
			goto out;
out:
	cloud__pairs_free(v, m);
	return rc;
}

int
cloud_ali_rpc_string_to_sign(const char *method, const struct cloud_kv *params,
			     size_t n, struct buf *out)
{
	struct buf cq;
	int rc;

	if (method == NULL)
		return ERR_INPUT;
	buf_init(&cq, 1 << 20);
	if ((rc = cloud_ali_rpc_canonical_query(params, n, &cq)) != 0)
		goto out;
	if ((rc = buf_printf(out, "%s&%%2F&", method)) != 0)
		goto out;
	rc = cloud_uri_encode(out, buf_cstr(&cq), cq.len, false);
out:
	buf_free(&cq);
	return rc;
}

int
cloud_ali_rpc_signature(const char *secret, const char *method,
			const struct cloud_kv *params, size_t n,
			struct buf *out)
{
	struct buf sts, key;
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t mlen;
	int rc;

	if (secret == NULL)
		return ERR_INPUT;
	buf_init(&sts, 1 << 21);
	buf_init(&key, 4096);
	if ((rc = cloud_ali_rpc_string_to_sign(method, params, n, &sts)) != 0)
		goto out;
	if ((rc = buf_printf(&key, "%s&", secret)) != 0)
		goto out;
	mlen = cloud__hmac_sha1(key.ptr, key.len, sts.ptr, sts.len, mac);
	rc = cloud_base64_encode(mac, mlen, out);
out:
	buf_free(&sts);
	buf_free(&key);
	return rc;
}

int
cloud_ali_rpc_signed_query(const char *secret, const char *method,
			   const struct cloud_kv *params, size_t n,
			   struct buf *out)
{
	struct buf sig;
	int rc;

	buf_init(&sig, 256);
	if ((rc = cloud_ali_rpc_signature(secret, method, params, n, &sig)) !=
	    0)
		goto out;
	if ((rc = cloud_ali_rpc_canonical_query(params, n, out)) != 0)
		goto out;
	if ((rc = buf_puts(out, "&Signature=")) != 0)
		goto out;
	rc = cloud_uri_encode(out, sig.ptr, sig.len, false);
out:
	buf_free(&sig);
	return rc;
}

/* ================================================================ OSS V1 */

/* Query parameters that are sub-resources and so part of the V1 resource
 * (the union of the OSS C SDK and Go SDK v2 lists). */
static const char *const oss_subresources[] = {
    "acl",
    "append",
    "bucketInfo",
    "callback",
    "callback-var",
    "cloudboxes",
    "continuation-token",
    "cors",
    "delete",
    "encryption",
    "inventory",
    "inventoryId",
    "lifecycle",
    "live",
    "location",
    "logging",
    "objectMeta",
    "partNumber",
    "policy",
    "position",
    "qos",
    "referer",
    "regionList",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "security-token",
    "sequential",
    "stat",
    "status",
    "symlink",
    "tagging",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
    "worm",
    "wormExtend",
    "wormId",
};

static bool
oss_is_subresource(const char *k)
{
	if (strncmp(k, "x-oss-", 6) == 0)
		return true;
	for (size_t i = 0;
	     i < sizeof(oss_subresources) / sizeof(oss_subresources[0]); i++)
		if (strcmp(k, oss_subresources[i]) == 0)
			return true;
	return false;
}

/*
 * Lowercased, trimmed headers selected by keep(), sorted, with duplicate
 * names merged by ",". *out_n is the count.
 */
static int
select_headers(const struct cloud_kv *kv, size_t n,
	       bool (*keep)(const char *low, const void *arg), const void *arg,
	       struct cloud__pair **out, size_t *out_n)
{
	struct cloud__pair *v;
	size_t m = 0;

	*out = NULL;
	*out_n = 0;
	if (n > CLOUD_MAX_PAIRS)
		return ERR_LIMIT;
	if (n == 0)
		return 0;
	if (kv == NULL)
		return ERR_INPUT;
	v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		char *low = cloud__lower_dup(kv[i].key);

		if (!keep(low, arg)) {
			free(low);
			continue;
		}
		v[m].name = low;
		v[m].value = cloud__trim_dup(kv[i].value);
		m++;
	}
	/* Stable order for equal names: by value (cloud__pair_cmp). */
	qsort(v, m, sizeof(*v), cloud__pair_cmp);
	for (size_t i = 1; i < m;) {
		if (strcmp(v[i].name, v[i - 1].name) != 0) {
			i++;
			continue;
		}
		size_t l1 = strlen(v[i - 1].value), l2 = strlen(v[i].value);
		char *j = xmalloc(l1 + l2 + 2);

		memcpy(j, v[i - 1].value, l1);
		j[l1] = ',';
		memcpy(j + l1 + 1, v[i].value, l2 + 1);
		free(v[i - 1].value);
		v[i - 1].value = j;
		free(v[i].name);
		free(v[i].value);
		memmove(&v[i], &v[i + 1], (m - i - 1) * sizeof(*v));
		m--;
	}
	*out = v;
	*out_n = m;
	return 0;
}

static bool
keep_x_oss(const char *low, const void *arg)
{
	(void)arg;
	return strncmp(low, "x-oss-", 6) == 0;
}

static int
raw_pair_cmp(const void *a, const void *b)
{
	const struct cloud_kv *x = a, *y = b;

	return strcmp(x->key, y->key);
}

int
cloud_oss_v1_string_to_sign(const struct cloud_oss_v1_input *in,
			    struct buf *out)
{
	struct cloud__pair *h = NULL;
	struct cloud_kv *q = NULL;
	size_t nh = 0, nq = 0;
	int rc;

	if (in == NULL || in->verb == NULL || in->date == NULL ||
	    in->n_params > CLOUD_MAX_PAIRS ||
	    (in->n_params > 0 && in->params == NULL))
		return ERR_INPUT;
	if ((rc = select_headers(in->headers, in->n_headers, keep_x_oss, NULL,
				 &h, &nh)) != 0)
		return rc;
	if ((rc = buf_printf(out, "%s\n%s\n%s\n%s\n", in->verb,
			     cloud__str(in->content_md5),
			     cloud__str(in->content_type), in->date)) != 0)
		goto out;
	for (size_t i = 0; i < nh; i++)
		if ((rc = buf_printf(out, "%s:%s\n", h[i].name, h[i].value)) !=
		    0)
			goto out;
	if ((rc = buf_putc(out, '/')) != 0)
		goto out;
	if (in->bucket != NULL &&
	    (rc = buf_printf(out, "%s/", in->bucket)) != 0)
		goto out;
	if (in->key != NULL && (rc = buf_puts(out, in->key)) != 0)
		goto out;
	if (in->n_params > 0) {
		q = xcalloc(in->n_params, sizeof(*q));
		for (size_t i = 0; i < in->n_params; i++)
			if (in->params[i].key != NULL &&
			    oss_is_subresource(in->params[i].key))
				q[nq++] = in->params[i];
		qsort(q, nq, sizeof(*q), raw_pair_cmp);
		for (size_t i = 0; i < nq; i++) {
			const char *v = cloud__str(q[i].value);

			if ((rc = buf_printf(out, "%c%s%s%s", i ? '&' : '?',
					     q[i].key, *v ? "=" : "", v)) != 0)
				goto out;
		}
	}
out:
	cloud__pairs_free(h, nh);
	free(q);
	return rc;
}

int
cloud_oss_v1_authorization(const struct cloud_oss_v1_input *in, struct buf *out)
{
	struct buf sts;
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t n;
	int rc;

	if (in == NULL || in->access_key_id == NULL ||
	    in->access_key_secret == NULL)
		return ERR_INPUT;
	buf_init(&sts, 1 << 20);
	if ((rc = cloud_oss_v1_string_to_sign(in, &sts)) != 0)
		goto out;
	n = cloud__hmac_sha1(in->access_key_secret,
			     strlen(in->access_key_secret), sts.ptr, sts.len,
			     mac);
	if ((rc = buf_printf(out, "OSS %s:", in->access_key_id)) != 0)
		goto out;
	rc = cloud_base64_encode(mac, n, out);
out:
	buf_free(&sts);
	return rc;
}

/* ================================================================ OSS V4 */

static bool
oss_v4_default_signed(const char *low)
{
	return strncmp(low, "x-oss-", 6) == 0 ||
	       strcmp(low, "content-type") == 0 ||
	       strcmp(low, "content-md5") == 0;
}

/* The additional header names that count: lowercased, not signed by
 * default, present (non-empty) in the request, sorted, unique. */
static int
oss_v4_additional(const struct cloud_oss_v4_input *in, struct buf *list)
{
	char *names[CLOUD_MAX_PAIRS];
	size_t m = 0;
	int rc = 0;

	if (in->n_additional > CLOUD_MAX_PAIRS)
		return ERR_LIMIT;
	for (size_t i = 0; i < in->n_additional; i++) {
		char *low = cloud__lower_dup(in->additional[i]);
		bool present = false, dup = false;

		for (size_t j = 0; j < in->n_headers; j++)
			if (strcasecmp(cloud__str(in->headers[j].key), low) ==
				0 &&
			    cloud__str(in->headers[j].value)[0] != '\0')
				present = true;
		for (size_t j = 0; j < m; j++)
			if (strcmp(names[j], low) == 0)
				dup = true;
		if (oss_v4_default_signed(low) || !present || dup) {
			free(low);
			continue;
		}
		names[m++] = low;
	}
	for (size_t i = 1; i < m; i++)
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0;
		     j--) {
			char *t = names[j];

			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	for (size_t i = 0; i < m && rc == 0; i++)
		rc = buf_printf(list, "%s%s", i > 0 ? ";" : "", names[i]);
	for (size_t i = 0; i < m; i++)
		free(names[i]);
	return rc;
}

static bool
keep_v4(const char *low, const void *arg)
{
	const char *list = arg; /* "a;b;c" */
	size_t l = strlen(low);

	if (oss_v4_default_signed(low))
		return true;
	for (const char *p = list; *p;) {
		const char *semi = strchr(p, ';');
		size_t len = semi ? (size_t)(semi - p) : strlen(p);

		if (len == l && memcmp(p, low, l) == 0)
			return true;
		if (semi == NULL)
			break;
		p = semi + 1;
	}
	return false;
}

static int
oss_v4_canon(const struct cloud_oss_v4_input *in, const char *additional,
	     struct buf *out)
{
	struct cloud__pair *h = NULL, *q = NULL;
	size_t nh = 0, nq = 0;
	const char *payload = "UNSIGNED-PAYLOAD";
	int rc;

	if (in->n_params > CLOUD_MAX_PAIRS)
		return ERR_LIMIT;
	if (in->n_params > 0 && in->params == NULL)
		return ERR_INPUT;
	if ((rc = select_headers(in->headers, in->n_headers, keep_v4,
				 additional, &h, &nh)) != 0)
		return rc;
	if ((rc = buf_printf(out, "%s\n/", in->verb)) != 0)
		goto out;
	if (in->bucket != NULL) {
		if ((rc = cloud_uri_encode(out, in->bucket, strlen(in->bucket),
					   true)) != 0 ||
		    (rc = buf_putc(out, '/')) != 0)
			goto out;
	}
	if (in->key != NULL &&
	    (rc = cloud_uri_encode(out, in->key, strlen(in->key), true)) != 0)
		goto out;
	if ((rc = buf_putc(out, '\n')) != 0)
		goto out;
	if (in->n_params > 0) {
		q = xcalloc(in->n_params, sizeof(*q));
		for (size_t i = 0; i < in->n_params; i++) {
			if (in->params[i].key == NULL)
				continue;
			q[nq].name = cloud__enc_dup(in->params[i].key);
			q[nq].value = cloud__enc_dup(in->params[i].value);
			nq++;
			if (q[nq - 1].name == NULL || q[nq - 1].value == NULL) {
				rc = ERR_LIMIT;
				goto out;
			}
		}
		qsort(q, nq, sizeof(*q), cloud__pair_cmp);
		for (size_t i = 0; i < nq; i++)
			if ((rc = buf_printf(out, "%s%s%s%s", i ? "&" : "",
					     q[i].name, *q[i].value ? "=" : "",
					     q[i].value)) != 0)
				goto out;
	}
	if ((rc = buf_putc(out, '\n')) != 0)
		goto out;
	for (size_t i = 0; i < nh; i++) {
		if ((rc = buf_printf(out, "%s:%s\n", h[i].name, h[i].value)) !=
		    0)
			goto out;
		if (strcmp(h[i].name, "x-oss-content-sha256") == 0 &&
		    h[i].value[0] != '\0')
			payload = h[i].value;
	}
	rc = buf_printf(out, "\n%s\n%s", additional, payload);
out:
	cloud__pairs_free(h, nh);
	cloud__pairs_free(q, nq);
	return rc;
}

static int
oss_v4_check(const struct cloud_oss_v4_input *in)
{
	if (in == NULL || in->verb == NULL || in->region == NULL ||
	    in->access_key_id == NULL || in->access_key_secret == NULL ||
	    (in->n_headers > 0 && in->headers == NULL) ||
	    (in->n_additional > 0 && in->additional == NULL))
		return ERR_INPUT;
	return 0;
}

int
cloud_oss_v4_canonical_request(const struct cloud_oss_v4_input *in,
			       struct buf *out)
{
	struct buf add;
	int rc;

	if ((rc = oss_v4_check(in)) != 0)
		return rc;
	buf_init(&add, 1 << 16);
	if ((rc = oss_v4_additional(in, &add)) == 0)
		rc = oss_v4_canon(in, buf_cstr(&add), out);
	buf_free(&add);
	return rc;
}

static const char *
oss_v4_product(const struct cloud_oss_v4_input *in)
{
	return in->product != NULL ? in->product : "oss";
}

int
cloud_oss_v4_string_to_sign(const struct cloud_oss_v4_input *in,
			    struct buf *out)
{
	struct buf canon;
	char dt[17], hash[65];
	int rc;

	if ((rc = oss_v4_check(in)) != 0)
		return rc;
	if (cloud_time_iso8601_basic(in->time, dt) != 0)
		return ERR_INPUT;
	buf_init(&canon, 1 << 20);
	if ((rc = cloud_oss_v4_canonical_request(in, &canon)) != 0)
		goto out;
	sha256_hex(canon.ptr, canon.len, hash);
	rc = buf_printf(
	    out, "OSS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aliyun_v4_request\n%s", dt,
	    dt, in->region, oss_v4_product(in), hash);
out:
	buf_free(&canon);
	return rc;
}

int
cloud_oss_v4_authorization(const struct cloud_oss_v4_input *in, struct buf *out)
{
	struct buf sts, key, add;
	unsigned char k[EVP_MAX_MD_SIZE], k2[EVP_MAX_MD_SIZE];
	char dt[17], date[9], sighex[65];
	const char *product;
	size_t n;
	int rc;

	if ((rc = oss_v4_check(in)) != 0)
		return rc;
	if (cloud_time_iso8601_basic(in->time, dt) != 0)
		return ERR_INPUT;
	memcpy(date, dt, 8);
	date[8] = '\0';
	product = oss_v4_product(in);
	buf_init(&sts, 1 << 20);
	buf_init(&key, 4096);
	buf_init(&add, 1 << 16);
	if ((rc = cloud_oss_v4_string_to_sign(in, &sts)) != 0 ||
	    (rc = oss_v4_additional(in, &add)) != 0 ||
	    (rc = buf_printf(&key, "aliyun_v4%s", in->access_key_secret)) != 0)
		goto out;
	n = cloud__hmac_sha256(key.ptr, key.len, date, 8, k);
	n = cloud__hmac_sha256(k, n, in->region, strlen(in->region), k2);
	n = cloud__hmac_sha256(k2, n, product, strlen(product), k);
	n = cloud__hmac_sha256(k, n, "aliyun_v4_request", 17, k2);
	n = cloud__hmac_sha256(k2, n, sts.ptr, sts.len, k);
	hex_encode(k, n, sighex);
	rc = buf_printf(out,
			"OSS4-HMAC-SHA256 Credential=%s/%s/%s/%s/"
			"aliyun_v4_request%s%s,Signature=%s",
			in->access_key_id, date, in->region, product,
			add.len > 0 ? ",AdditionalHeaders=" : "",
			buf_cstr(&add), sighex);
out:
	buf_free(&sts);
	buf_free(&key);
	buf_free(&add);
	return rc;
}
