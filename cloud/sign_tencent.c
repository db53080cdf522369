/*
 * sign_tencent.c: Tencent's signatures: API 3.0 TC3-HMAC-SHA256 and COS
 * q-sign. Pure: no I/O and no clock; the caller passes the time.
 *
 * Interface: cloud_tc3_canonical_request, cloud_tc3_string_to_sign,
 * cloud_tc3_authorization, cloud_cos_http_string, cloud_cos_string_to_sign,
 * cloud_cos_authorization.
 */
#include "cloud/cloud_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ================================================================ TC3 */

static int
tc3_check(const struct cloud_tc3_input *in)
{
	if (in == NULL || in->secret_id == NULL || in->secret_key == NULL ||
	    in->service == NULL || in->host == NULL || in->method == NULL ||
	    in->content_type == NULL)
		return ERR_INPUT;
	return 0;
}

int
cloud_tc3_canonical_request(const struct cloud_tc3_input *in, struct buf *out)
{
	char payload_hash[65];
	int rc;

	if ((rc = tc3_check(in)) != 0)
		return rc;
	sha256_hex(in->payload != NULL ? in->payload : "",
		   in->payload != NULL ? in->payload_len : 0, payload_hash);
	if ((rc = buf_printf(out, "%s\n/\n%s\ncontent-type:%s\nhost:%s\n",
			     in->method, cloud__str(in->query),
			     in->content_type, in->host)) != 0)
		return rc;
	if (in->action != NULL) {
		char *a = cloud__lower_dup(in->action);

		rc = buf_printf(out, "x-tc-action:%s\n", a);
		free(a);
		if (rc != 0)
			return rc;
	}
	return buf_printf(out, "\ncontent-type;host%s\n%s",
			  in->action != NULL ? ";x-tc-action" : "",
			  payload_hash);
}

static int
tc3_sts(const struct cloud_tc3_input *in, char date[11], struct buf *out)
{
	struct buf canon;
	char hash[65];
	int rc;

	if ((rc = tc3_check(in)) != 0)
		return rc;
	if (cloud_time_date(in->timestamp, date) != 0)
		return ERR_INPUT;
	buf_init(&canon, 1 << 20);
	if ((rc = cloud_tc3_canonical_request(in, &canon)) != 0)
		goto out;
	sha256_hex(canon.ptr, canon.len, hash);
	rc = buf_printf(out, "TC3-HMAC-SHA256\n%lld\n%s/%s/tc3_request\n%s",
			(long long)in->timestamp, date, in->service, hash);
out:
	buf_free(&canon);
	return rc;
}

int
cloud_tc3_string_to_sign(const struct cloud_tc3_input *in, struct buf *out)
{
	char date[11];

	return tc3_sts(in, date, out);
}

int
cloud_tc3_authorization(const struct cloud_tc3_input *in, struct buf *out)
{
	struct buf sts, key;
	unsigned char k1[EVP_MAX_MD_SIZE], k2[EVP_MAX_MD_SIZE];
	unsigned char k3[EVP_MAX_MD_SIZE], sig[EVP_MAX_MD_SIZE];
	char date[11], sighex[65];
	size_t n;
	int rc;

	buf_init(&sts, 1 << 20);
	buf_init(&key, 4096);
	if ((rc = tc3_sts(in, date, &sts)) != 0)
		goto out;
	if ((rc = buf_printf(&key, "TC3%s", in->secret_key)) != 0)
		goto out;
	n = cloud__hmac_sha256(key.ptr, key.len, date, strlen(date), k1);
	n = cloud__hmac_sha256(k1, n, in->service, strlen(in->service), k2);
	n = cloud__hmac_sha256(k2, n, "tc3_request", 11, k3);
	n = cloud__hmac_sha256(k3, n, sts.ptr, sts.len, sig);
	hex_encode(sig, n, sighex);
	rc = buf_printf(out,
			"TC3-HMAC-SHA256 Credential=%s/%s/%s/tc3_request, "
			"SignedHeaders=content-type;host%s, Signature=%s",
			in->secret_id, date, in->service,
			in->action != NULL ? ";x-tc-action" : "", sighex);
out:
	buf_free(&sts);
	buf_free(&key);
	return rc;
}

/* ================================================================ COS */

/*
 * "k1=v1&k2=v2" and "k1;k2" from pairs: names lowercased then encoded,
 * values encoded, sorted by encoded name.
 */
static int
cos_format(const struct cloud_kv *kv, size_t n, struct buf *pairs,
	   struct buf *list)
{
	struct cloud__pair *v = NULL;
	int rc = 0;

	if (n > CLOUD_MAX_PAIRS)
		return ERR_LIMIT;
	if (n == 0)
		return 0;
	v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		char *low = cloud__lower_dup(kv[i].key);

		v[i].name = cloud__enc_dup(low);
		v[i].value = cloud__enc_dup(kv[i].value);
		free(low);
		if (v[i].name == NULL || v[i].value == NULL) {
			rc = ERR_LIMIT;
			n = i + 1;
			goto out;
		}
	}
	qsort(v, n, sizeof(*v), cloud__pair_cmp);
	for (size_t i = 0; i < n; i++) {
		const char *sep = i > 0 ? "&" : "";

		if ((rc = buf_printf(pairs, "%s%s=%s", sep, v[i].name,
				     v[i].value)) != 0)
			goto out;
		if (list != NULL &&
		    (rc = buf_printf(list, "%s%s", i > 0 ? ";" : "",
				     v[i].name)) != 0)
			goto out;
	}
out:
	cloud__pairs_free(v, n);
	return rc;
}

static int
cos_check(const struct cloud_cos_sign_input *in)
{
	if (in == NULL || in->method == NULL || in->path == NULL ||
	    in->secret_id == NULL || in->secret_key == NULL ||
	    (in->n_headers > 0 && in->headers == NULL) ||
	    (in->n_params > 0 && in->params == NULL))
		return ERR_INPUT;
	return 0;
}

int
cloud_cos_http_string(const struct cloud_cos_sign_input *in, struct buf *out)
{
	char *method = NULL;
	int rc;

	if ((rc = cos_check(in)) != 0)
		return rc;
	method = cloud__lower_dup(in->method);
	if ((rc = buf_printf(out, "%s\n%s\n", method, in->path)) != 0)
		goto out;
	if ((rc = cos_format(in->params, in->n_params, out, NULL)) != 0)
		goto out;
	if ((rc = buf_putc(out, '\n')) != 0)
		goto out;
	if ((rc = cos_format(in->headers, in->n_headers, out, NULL)) != 0)
		goto out;
	rc = buf_putc(out, '\n');
out:
	free(method);
	return rc;
}

int
cloud_cos_string_to_sign(const struct cloud_cos_sign_input *in, struct buf *out)
{
	struct buf hs;
	char hash[41];
	int rc;

	buf_init(&hs, 1 << 20);
	if ((rc = cloud_cos_http_string(in, &hs)) != 0)
		goto out;
	sha1_hex(hs.ptr, hs.len, hash);
	rc = buf_printf(out, "sha1\n%lld;%lld\n%s\n", (long long)in->start,
			(long long)in->end, hash);
out:
	buf_free(&hs);
	return rc;
}

int
cloud_cos_authorization(const struct cloud_cos_sign_input *in, struct buf *out)
{
	struct buf sts, hl, pl, scratch;
	unsigned char mac[EVP_MAX_MD_SIZE];
	char keytime[48], signkey[41], sig[41];
	size_t n;
	int rc;

	buf_init(&sts, 1 << 20);
	buf_init(&hl, 1 << 16);
	buf_init(&pl, 1 << 16);
	buf_init(&scratch, 1 << 20);
	if ((rc = cloud_cos_string_to_sign(in, &sts)) != 0)
		goto out;
	if ((rc = cos_format(in->headers, in->n_headers, &scratch, &hl)) != 0)
		goto out;
	if ((rc = cos_format(in->params, in->n_params, &scratch, &pl)) != 0)
		goto out;
	snprintf(keytime, sizeof(keytime), "%lld;%lld", (long long)in->start,
		 (long long)in->end);
	n = cloud__hmac_sha1(in->secret_key, strlen(in->secret_key), keytime,
			     strlen(keytime), mac);
	hex_encode(mac, n, signkey);
	/* The key of the second HMAC is SignKey as its 40-char hex text. */
	n = cloud__hmac_sha1(signkey, 40, sts.ptr, sts.len, mac);
	hex_encode(mac, n, sig);
	rc = buf_printf(out,
			"q-sign-algorithm=sha1&q-ak=%s&q-sign-time=%s"
			"&q-key-time=%s&q-header-list=%s&q-url-param-list=%s"
			"&q-signature=%s",
			in->secret_id, keytime, keytime, buf_cstr(&hl),
			buf_cstr(&pl), sig);
out:
	buf_free(&sts);
	buf_free(&hl);
	buf_free(&pl);
	buf_free(&scratch);
	return rc;
}
