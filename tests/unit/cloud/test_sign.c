/*
 * test_sign.c: the signatures (cloud/sign_tencent.c, sign_alibaba.c) against
 * the platforms' published vectors, byte for byte: the worked examples of
 * Tencent's API 3.0 (TC3) and COS request-signature documents, Alibaba's
 * RPC signature document, OSS's V1 document and V4 SDK vectors (each test
 * names its vector); plus the encodings of cloud/encode.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "cloud/cloud.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Run f into a fresh buffer and compare with want, byte for byte. */
#define ASSERT_BUF(call, want)                                                 \
	do {                                                                   \
		struct buf b_;                                                 \
		buf_init(&b_, 1 << 20);                                        \
		assert_int_equal((call), 0);                                   \
		assert_string_equal(buf_cstr(&b_), (want));                    \
		buf_free(&b_);                                                 \
	} while (0)
#define OUT (&b_)

/* ================================================================ TC3 */

static const char tc3_payload[] =
    "{\"Limit\": 1, \"Filters\": [{\"Values\": "
    "[\"\\u672a\\u547d\\u540d\"], \"Name\": \"instance-name\"}]}";

static struct cloud_tc3_input
tc3_doc_input(void)
{
	struct cloud_tc3_input in = {
	    .secret_id = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******",
	    .secret_key = "Gu5t9xGARNpq86cd98joQYCN3*******",
	    .service = "cvm",
	    .host = "cvm.tencentcloudapi.com",
	    .method = "POST",
	    .content_type = "application/json; charset=utf-8",
	    .payload = tc3_payload,
	    .payload_len = sizeof(tc3_payload) - 1,
	    .timestamp = 1551113065,
	};
	return in;
}

static void
test_tc3_payload_hash(void **state)
{
	char h[65];

	(void)state;
	sha256_hex(tc3_payload, sizeof(tc3_payload) - 1, h);
	assert_string_equal(
	    h,
	    "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064");
}

static void
test_tc3_canonical_request(void **state)
{
	struct cloud_tc3_input in = tc3_doc_input();

	(void)state;
	ASSERT_BUF(cloud_tc3_canonical_request(&in, OUT),
		   "POST\n/\n\ncontent-type:application/json; charset=utf-8\n"
		   "host:cvm.tencentcloudapi.com\n\ncontent-type;host\n"
		   "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f13989"
		   "34f064");
}

static void
test_tc3_string_to_sign(void **state)
{
	struct cloud_tc3_input in = tc3_doc_input();

	(void)state;
	ASSERT_BUF(cloud_tc3_string_to_sign(&in, OUT),
		   "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
		   "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca1"
		   "8d7031");
}

static void
test_tc3_authorization(void **state)
{
	struct cloud_tc3_input in = tc3_doc_input();

	(void)state;
	ASSERT_BUF(cloud_tc3_authorization(&in, OUT),
		   "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3"
		   "*******/2019-02-25/cvm/tc3_request, "
		   "SignedHeaders=content-type;host, "
		   "Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3"
		   "738f756258d7652c");
}

static void
test_tc3_sensitivity(void **state)
{
	struct cloud_tc3_input in = tc3_doc_input();
	struct buf a, b;

	(void)state;
	/* A one-byte change of the body, or signing the action, changes it. */
	buf_init(&a, 4096);
	buf_init(&b, 4096);
	assert_int_equal(cloud_tc3_authorization(&in, &a), 0);
	in.payload_len--;
	assert_int_equal(cloud_tc3_authorization(&in, &b), 0);
	assert_string_not_equal(buf_cstr(&a), buf_cstr(&b));
	buf_reset(&b);
	in = tc3_doc_input();
	in.action = "DescribeInstances";
	assert_int_equal(cloud_tc3_authorization(&in, &b), 0);
	assert_non_null(strstr(buf_cstr(&b),
			       "SignedHeaders=content-type;host;x-tc-action,"));
	buf_reset(&b);
	assert_int_equal(cloud_tc3_canonical_request(&in, &b), 0);
	assert_non_null(
	    strstr(buf_cstr(&b), "\nx-tc-action:describeinstances\n\n"));
	/* The scope date is the UTC date: 1551052799 is 2019-02-24 23:59:59. */
	in.timestamp = 1551052799;
	buf_reset(&b);
	assert_int_equal(cloud_tc3_string_to_sign(&in, &b), 0);
	assert_non_null(strstr(buf_cstr(&b), "\n2019-02-24/cvm/"));
	in.secret_key = NULL;
	assert_int_equal(cloud_tc3_authorization(&in, &b), ERR_INPUT);
	buf_free(&a);
	buf_free(&b);
}

/* ================================================================ COS */

static const struct cloud_kv cos_put_headers[] = {
    {"Date", "Thu, 16 May 2019 06:45:51 GMT"},
    {"Host", "examplebucket-1250000000.cos.ap-beijing.myqcloud.com"},
    {"Content-Type", "text/plain"},
    {"Content-Length", "13"},
    {"Content-MD5", "mQ/fVh815F3k6TAUm8m0eg=="},
    {"x-cos-acl", "private"},
    {"x-cos-grant-read", "uin=\"100000000011\""},
};

static struct cloud_cos_sign_input
cos_put_input(void)
{
	struct cloud_cos_sign_input in = {
	    .method = "PUT",
	    .path = "/exampleobject(\xe8\x85\xbe\xe8\xae\xaf\xe4\xba\x91)",
	    .headers = cos_put_headers,
	    .n_headers = ARRAY_LEN(cos_put_headers),
	    .secret_id = "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q",
	    .secret_key = "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz",
	    .start = 1557989151,
	    .end = 1557996351,
	};
	return in;
}

#define COS_PUT_HEADERS                                                        \
	"content-length=13&content-md5=mQ%2FfVh815F3k6TAUm8m0eg%3D%3D&"        \
	"content-type=text%2Fplain&date=Thu%2C%2016%20May%202019%2006%3A45%3A" \
	"51%20GMT&host=examplebucket-1250000000.cos.ap-beijing.myqcloud.com&"  \
	"x-cos-acl=private&x-cos-grant-read=uin%3D%22100000000011%22"

static void
test_cos_put_http_string(void **state)
{
	struct cloud_cos_sign_input in = cos_put_input();

	(void)state;
	ASSERT_BUF(cloud_cos_http_string(&in, OUT),
		   "put\n/exampleobject(\xe8\x85\xbe\xe8\xae\xaf\xe4\xba\x91)"
		   "\n\n" COS_PUT_HEADERS "\n");
}

static void
test_cos_put_string_to_sign(void **state)
{
	struct cloud_cos_sign_input in = cos_put_input();

	(void)state;
	ASSERT_BUF(cloud_cos_string_to_sign(&in, OUT),
		   "sha1\n1557989151;1557996351\n"
		   "8b2751e77f43a0995d6e9eb9477f4b685cca4172\n");
}

static void
test_cos_put_authorization(void **state)
{
	struct cloud_cos_sign_input in = cos_put_input();

	(void)state;
	ASSERT_BUF(cloud_cos_authorization(&in, OUT),
		   "q-sign-algorithm=sha1&q-ak=AKIDQjz3ltompVjBni5LitkWHFlFpwk"
		   "n9U5q&q-sign-time=1557989151;1557996351&q-key-time="
		   "1557989151;1557996351&q-header-list=content-length;"
		   "content-md5;content-type;date;host;x-cos-acl;"
		   "x-cos-grant-read&q-url-param-list=&q-signature="
		   "3b8851a11a569213c17ba8fa7dcf2abec6935172");
}

static void
test_cos_put_english_path_is_wrong(void **state)
{
	struct cloud_cos_sign_input in = cos_put_input();
	struct buf b;

	(void)state;
	/* The doc's mistranslated path gives 510c3188...6c29, not the
	 * official value: the signature really depends on the path. */
	in.path = "/exampleobject(tencentcloud)";
	buf_init(&b, 4096);
	assert_int_equal(cloud_cos_authorization(&in, &b), 0);
	assert_null(strstr(buf_cstr(&b), "3b8851a11a569213c17ba8fa7dcf2abe"));
	assert_non_null(strstr(buf_cstr(&b), "q-signature=510c3188"));
	assert_non_null(strstr(buf_cstr(&b), "6c29"));
	buf_free(&b);
}

static void
test_cos_get_vector(void **state)
{
	static const struct cloud_kv headers[] = {
	    {"Host", "examplebucket-1250000000.cos.ap-beijing.myqcloud.com"},
	    {"Date", "Thu, 16 May 2019 06:55:53 GMT"},
	};
	static const struct cloud_kv params[] = {
	    {"response-content-type", "application/octet-stream"},
	    {"response-cache-control", "max-age=600"},
	};
	struct cloud_cos_sign_input in = {
	    .method = "GET",
	    .path = "/exampleobject(\xe8\x85\xbe\xe8\xae\xaf\xe4\xba\x91)",
	    .headers = headers,
	    .n_headers = 2,
	    .params = params,
	    .n_params = 2,
	    .secret_id = "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q",
	    .secret_key = "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz",
	    .start = 1557989753,
	    .end = 1557996953,
	};

	(void)state;
	ASSERT_BUF(cloud_cos_string_to_sign(&in, OUT),
		   "sha1\n1557989753;1557996953\n"
		   "54ecfe22f59d3514fdc764b87a32d8133ea611e6\n");
	ASSERT_BUF(
	    cloud_cos_http_string(&in, OUT),
	    "get\n/exampleobject(\xe8\x85\xbe\xe8\xae\xaf\xe4\xba\x91)\n"
	    "response-cache-control=max-age%3D600&response-content-type="
	    "application%2Foctet-stream\ndate=Thu%2C%2016%20May%202019%2006"
	    "%3A55%3A53%20GMT&host=examplebucket-1250000000.cos.ap-beijing"
	    ".myqcloud.com\n");
	ASSERT_BUF(cloud_cos_authorization(&in, OUT),
		   "q-sign-algorithm=sha1&q-ak=AKIDQjz3ltompVjBni5LitkWHFlFpwk"
		   "n9U5q&q-sign-time=1557989753;1557996953&q-key-time="
		   "1557989753;1557996953&q-header-list=date;host"
		   "&q-url-param-list=response-cache-control;"
		   "response-content-type&q-signature="
		   "01681b8c9d798a678e43b685a9f1bba0f6c0e012");
}

static void
test_cos_valueless_param(void **state)
{
	static const struct cloud_kv params[] = {{"uploads", NULL}};
	static const struct cloud_kv headers[] = {{"Host", "b.cos.x.com"}};
	struct cloud_cos_sign_input in = {
	    .method = "POST",
	    .path = "/a b",
	    .headers = headers,
	    .n_headers = 1,
	    .params = params,
	    .n_params = 1,
	    .secret_id = "id",
	    .secret_key = "k",
	    .start = 1,
	    .end = 2,
	};

	(void)state;
	ASSERT_BUF(cloud_cos_http_string(&in, OUT),
		   "post\n/a b\nuploads=\nhost=b.cos.x.com\n");
}

/* ================================================================ Alibaba RPC
 */

static const struct cloud_kv ali_doc_params[] = {
    {"Timestamp", "2017-10-10T12:02:54Z"},
    {"Format", "JSON"},
    {"AccessKeyId", "testAccessKeyId"},
    {"Action", "GetVideoPlayAuth"},
    {"SignatureMethod", "HMAC-SHA1"},
    {"SignatureNonce", "8f8a035d-6496-4268-afd4-67c22837e38d"},
    {"Version", "2017-03-21"},
    {"SignatureVersion", "1.0"},
    {"VideoId", "5aed81b74ba84920be578cdfe004af4b"},
};

static void
test_ali_rpc_doc_example(void **state)
{
	const size_t n = ARRAY_LEN(ali_doc_params);

	(void)state;
	ASSERT_BUF(
	    cloud_ali_rpc_string_to_sign("GET", ali_doc_params, n, OUT),
	    "GET&%2F&AccessKeyId%3DtestAccessKeyId%26Action%3D"
	    "GetVideoPlayAuth%26Format%3DJSON%26SignatureMethod%3DHMAC-"
	    "SHA1%26SignatureNonce%3D8f8a035d-6496-4268-afd4-"
	    "67c22837e38d%26SignatureVersion%3D1.0%26Timestamp%3D2017-10-"
	    "10T12%253A02%253A54Z%26Version%3D2017-03-21%26VideoId%3D"
	    "5aed81b74ba84920be578cdfe004af4b");
	ASSERT_BUF(cloud_ali_rpc_signature("testAccessKeySecret", "GET",
					   ali_doc_params, n, OUT),
		   "Ibgh7y8Vp47LBuAsf5Xhi1SvDss=");
	ASSERT_BUF(
	    cloud_ali_rpc_signed_query("testAccessKeySecret", "GET",
				       ali_doc_params, n, OUT),
	    "AccessKeyId=testAccessKeyId&Action=GetVideoPlayAuth&Format="
	    "JSON&SignatureMethod=HMAC-SHA1&SignatureNonce=8f8a035d-6496-"
	    "4268-afd4-67c22837e38d&SignatureVersion=1.0&Timestamp=2017-"
	    "10-10T12%3A02%3A54Z&Version=2017-03-21&VideoId="
	    "5aed81b74ba84920be578cdfe004af4b&Signature="
	    "Ibgh7y8Vp47LBuAsf5Xhi1SvDss%3D");
}

static void
test_ali_rpc_encoding_edges(void **state)
{
	static const struct cloud_kv p[] = {
	    {"Title", "a b*c~d+e/f"},
	    {"Empty", ""},
	    {"Null", NULL},
	    {"Tags", "\xe4\xb8\xad,x!'()"},
	};

	(void)state;
	/* Empty values are skipped; space %20, '*' %2A, '~' kept, UTF-8 and
	 * !'() encoded. */
	ASSERT_BUF(cloud_ali_rpc_canonical_query(p, ARRAY_LEN(p), OUT),
		   "Tags=%E4%B8%AD%2Cx%21%27%28%29&Title=a%20b%2Ac~d%2Be%2Ff");
	ASSERT_BUF(cloud_ali_rpc_string_to_sign("POST", p, 1, OUT),
		   "POST&%2F&Title%3Da%2520b%252Ac~d%252Be%252Ff");
}

/* ================================================================ OSS V1 */

static const struct cloud_kv oss_doc_headers[] = {
    {"Content-Md5", "ODBGOERFMDMzQTczRUY3NUE3NzA5QzdFNUYzMDQxNEM="},
    {"Content-Type", "text/html"},
    {"Date", "Thu, 17 Nov 2005 18:49:58 GMT"},
    {"Host", "oss-example.oss-cn-hangzhou.aliyuncs.com"},
    {"X-OSS-Meta-Author", "foo@bar.com"},
    {"X-OSS-Magic", "abracadabra"},
};

static struct cloud_oss_v1_input
oss_v1_doc_input(void)
{
	struct cloud_oss_v1_input in = {
	    .verb = "PUT",
	    .content_md5 = "ODBGOERFMDMzQTczRUY3NUE3NzA5QzdFNUYzMDQxNEM=",
	    .content_type = "text/html",
	    .date = "Thu, 17 Nov 2005 18:49:58 GMT",
	    .headers = oss_doc_headers,
	    .n_headers = ARRAY_LEN(oss_doc_headers),
	    .bucket = "oss-example",
	    .key = "nelson",
	    .access_key_id = "44CF9590006BF252F707",
	    .access_key_secret = "OtxrzxIsfpFjA7SwPzILwy8Bw21TLhquhboDYROV",
	};
	return in;
}

static void
test_oss_v1_doc_example(void **state)
{
	struct cloud_oss_v1_input in = oss_v1_doc_input();

	(void)state;
	ASSERT_BUF(cloud_oss_v1_string_to_sign(&in, OUT),
		   "PUT\nODBGOERFMDMzQTczRUY3NUE3NzA5QzdFNUYzMDQxNEM=\n"
		   "text/html\nThu, 17 Nov 2005 18:49:58 GMT\n"
		   "x-oss-magic:abracadabra\nx-oss-meta-author:foo@bar.com\n"
		   "/oss-example/nelson");
	ASSERT_BUF(cloud_oss_v1_authorization(&in, OUT),
		   "OSS 44CF9590006BF252F707:26NBxoKdsyly4EDv6inkoDft/yA=");
	/* With the Content-MD5 the request shows (doc bug, DERIVED value). */
	in.content_md5 = "eB5eJF1ptWaXm4bijSPyxw==";
	ASSERT_BUF(cloud_oss_v1_authorization(&in, OUT),
		   "OSS 44CF9590006BF252F707:hD208RWMpg77svXkQRwWXS+V5KQ=");
}

static void
test_oss_v1_go_sdk_vectors(void **state)
{
	static const struct cloud_kv headers[] = {
	    {"Content-MD5", "eB5eJF1ptWaXm4bijSPyxw=="},
	    {"Content-Type", "text/html"},
	    {"x-oss-meta-author", "alice"},
	    {"x-oss-meta-magic", "abracadabra"},
	    {"x-oss-date", "Wed, 28 Dec 2022 10:27:41 GMT"},
	};
	static const struct cloud_kv acl[] = {{"acl", ""}, {"foo", "bar"}};
	struct cloud_oss_v1_input in = {
	    .verb = "PUT",
	    .content_md5 = "eB5eJF1ptWaXm4bijSPyxw==",
	    .content_type = "text/html",
	    .date = "Wed, 28 Dec 2022 10:27:41 GMT",
	    .headers = headers,
	    .n_headers = ARRAY_LEN(headers),
	    .bucket = "examplebucket",
	    .key = "nelson",
	    .access_key_id = "ak",
	    .access_key_secret = "sk",
	};

	(void)state;
	/* aliyun/alibabacloud-oss-go-sdk-v2 TestV1AuthHeader cases 1, 2. */
	ASSERT_BUF(cloud_oss_v1_string_to_sign(&in, OUT),
		   "PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\nWed, 28 Dec 2022 "
		   "10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\n"
		   "x-oss-meta-author:alice\nx-oss-meta-magic:abracadabra\n"
		   "/examplebucket/nelson");
	ASSERT_BUF(cloud_oss_v1_authorization(&in, OUT),
		   "OSS ak:kSHKmLxlyEAKtZPkJhG9bZb5k7M=");
	in.params = acl;
	in.n_params = ARRAY_LEN(acl); /* "foo" is no sub-resource */
	ASSERT_BUF(cloud_oss_v1_authorization(&in, OUT),
		   "OSS ak:/afkugFbmWDQ967j1vr6zygBLQk=");
}

static void
test_oss_v1_subresources(void **state)
{
	static const struct cloud_kv q[] = {
	    {"uploadId", "0004B9894A22E5B1888A1E29F823"},
	    {"partNumber", "3"},
	    {"max-parts", "10"},
	};
	static const struct cloud_kv h[] = {
	    {"X-Oss-Security-Token", " tok "},
	};
	struct cloud_oss_v1_input in = {
	    .verb = "PUT",
	    .date = "D",
	    .headers = h,
	    .n_headers = 1,
	    .bucket = "b",
	    .key = "k+1/x.mp4",
	    .params = q,
	    .n_params = 3,
	    .access_key_id = "a",
	    .access_key_secret = "s",
	};

	(void)state;
	ASSERT_BUF(cloud_oss_v1_string_to_sign(&in, OUT),
		   "PUT\n\n\nD\nx-oss-security-token:tok\n/b/k+1/x.mp4"
		   "?partNumber=3&uploadId=0004B9894A22E5B1888A1E29F823");
	in.params = (const struct cloud_kv[]){{"uploads", NULL}};
	in.n_params = 1;
	in.key = NULL;
	in.n_headers = 0;
	ASSERT_BUF(cloud_oss_v1_string_to_sign(&in, OUT),
		   "PUT\n\n\nD\n/b/?uploads");
}

/* ================================================================ OSS V4 */

static const struct cloud_kv oss_v4_params[] = {
    {"param1", "value1"}, {"+param1", "value3"}, {"|param1", "value4"},
    {"+param2", ""},	  {"|param2", ""},	 {"param2", ""},
};

static void
test_oss_v4_token_vector(void **state)
{
	static const struct cloud_kv headers[] = {
	    {"x-oss-head1", "value"},
	    {"abc", "value"},
	    {"ZAbc", "value"},
	    {"XYZ", "value"},
	    {"content-type", "text/plain"},
	    {"x-oss-content-sha256", "UNSIGNED-PAYLOAD"},
	    {"x-oss-date", "20231217T034736Z"},
	    {"x-oss-security-token", "token"},
	};
	struct cloud_oss_v4_input in = {
	    .verb = "PUT",
	    .bucket = "bucket",
	    .key = "1234+-/123/1.txt",
	    .params = oss_v4_params,
	    .n_params = ARRAY_LEN(oss_v4_params),
	    .headers = headers,
	    .n_headers = ARRAY_LEN(headers),
	    .region = "cn-hangzhou",
	    .time = 1702784856,
	    .access_key_id = "ak",
	    .access_key_secret = "sk",
	};

	(void)state;
	ASSERT_BUF(cloud_oss_v4_canonical_request(&in, OUT),
		   "PUT\n/bucket/1234%2B-/123/1.txt\n"
		   "%2Bparam1=value3&%2Bparam2&%7Cparam1=value4&%7Cparam2&"
		   "param1=value1&param2\n"
		   "content-type:text/plain\n"
		   "x-oss-content-sha256:UNSIGNED-PAYLOAD\n"
		   "x-oss-date:20231217T034736Z\nx-oss-head1:value\n"
		   "x-oss-security-token:token\n\n\nUNSIGNED-PAYLOAD");
	ASSERT_BUF(cloud_oss_v4_authorization(&in, OUT),
		   "OSS4-HMAC-SHA256 Credential=ak/20231217/cn-hangzhou/oss/"
		   "aliyun_v4_request,Signature=b94a3f999cf85bcdc00d332fbd3734"
		   "ba03e48382c36fa4d5af5df817395bd9ea");
}

static void
test_oss_v4_plain_and_additional(void **state)
{
	static const struct cloud_kv h1[] = {
	    {"x-oss-head1", "value"},
	    {"abc", "value"},
	    {"ZAbc", "value"},
	    {"XYZ", "value"},
	    {"content-type", "text/plain"},
	    {"x-oss-content-sha256", "UNSIGNED-PAYLOAD"},
	    {"x-oss-date", "20231216T162057Z"},
	};
	static const struct cloud_kv h2[] = {
	    {"x-oss-head1", "value"},
	    {"abc", "value"},
	    {"ZAbc", "value"},
	    {"XYZ", "value"},
	    {"content-type", "text/plain"},
	    {"x-oss-content-sha256", "UNSIGNED-PAYLOAD"},
	    {"x-oss-date", "20231216T172512Z"},
	};
	static const char *const add[] = {"ZAbc", "x-oss-head1", "abc",
					  "absent"};
	struct cloud_oss_v4_input in = {
	    .verb = "PUT",
	    .bucket = "bucket",
	    .key = "1234+-/123/1.txt",
	    .params = oss_v4_params,
	    .n_params = ARRAY_LEN(oss_v4_params),
	    .headers = h1,
	    .n_headers = ARRAY_LEN(h1),
	    .region = "cn-hangzhou",
	    .time = 1702743657,
	    .access_key_id = "ak",
	    .access_key_secret = "sk",
	};

	(void)state;
	ASSERT_BUF(cloud_oss_v4_authorization(&in, OUT),
		   "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/"
		   "aliyun_v4_request,Signature=e21d18daa82167720f9b1047ae7e7f"
		   "1ce7cb77a31e8203a7d5f4624fa0284afe");
	/* Go SDK v2 TestV4AuthHeaderWithAdditionalHeaders (not in the doc). */
	in.headers = h2;
	in.n_headers = ARRAY_LEN(h2);
	in.time = 1702747512;
	in.additional = add;
	in.n_additional = ARRAY_LEN(add);
	ASSERT_BUF(cloud_oss_v4_authorization(&in, OUT),
		   "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/"
		   "aliyun_v4_request,AdditionalHeaders=abc;zabc,Signature="
		   "4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa2"
		   "51212f");
}

/* ================================================================ helpers */

static void
test_uri_encode(void **state)
{
	(void)state;
	ASSERT_BUF(cloud_uri_encode(OUT, "AZaz09-_.~", 10, false),
		   "AZaz09-_.~");
	ASSERT_BUF(cloud_uri_encode(OUT, " *+/=&%", 7, false),
		   "%20%2A%2B%2F%3D%26%25");
	ASSERT_BUF(cloud_uri_encode(OUT, "a/b c", 5, true), "a/b%20c");
	ASSERT_BUF(cloud_uri_encode(OUT, "\xe4\xb8\xad\x00z", 5, false),
		   "%E4%B8%AD%00z");
	ASSERT_BUF(cloud_uri_encode(OUT, "", 0, false), "");
}

static void
test_uri_encode_cap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(cloud_uri_encode(&b, "   ", 3, false), ERR_LIMIT);
	buf_free(&b);
}

static void
test_base64(void **state)
{
	struct buf b;
	struct err e;

	(void)state;
	ASSERT_BUF(cloud_base64_encode("", 0, OUT), "");
	ASSERT_BUF(cloud_base64_encode("f", 1, OUT), "Zg==");
	ASSERT_BUF(cloud_base64_encode("fo", 2, OUT), "Zm8=");
	ASSERT_BUF(cloud_base64_encode("foobar", 6, OUT), "Zm9vYmFy");
	ASSERT_BUF(cloud_base64_decode("Zg==", 4, OUT, NULL), "f");
	ASSERT_BUF(cloud_base64_decode("Zm8=", 4, OUT, NULL), "fo");
	ASSERT_BUF(cloud_base64_decode("Zm8", 3, OUT, NULL), "fo");
	ASSERT_BUF(cloud_base64_decode("Zm9vYmFy", 8, OUT, NULL), "foobar");
	buf_init(&b, 64);
	assert_int_equal(cloud_base64_decode("Zm9v\nYmFy", 9, &b, &e),
			 ERR_INPUT);
	assert_int_equal(cloud_base64_decode("Z", 1, &b, &e), ERR_INPUT);
	assert_int_equal(cloud_base64_decode("Zm8==", 5, &b, &e), ERR_INPUT);
	assert_int_equal(cloud_base64_decode("Zm-_", 4, &b, &e), ERR_INPUT);
	assert_int_equal(cloud_base64_decode("=", 1, &b, &e), ERR_INPUT);
	assert_int_equal(b.len, 0);
	/* Binary content survives (NUL bytes). */
	assert_int_equal(cloud_base64_decode("AAEA", 4, &b, &e), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.ptr, "\x00\x01\x00", 3);
	buf_free(&b);
}

static void
test_time_format(void **state)
{
	char r[30], i[21], ib[17], d[11];

	(void)state;
	assert_int_equal(cloud_time_rfc1123(1557989151, r), 0);
	assert_string_equal(r, "Thu, 16 May 2019 06:45:51 GMT");
	assert_int_equal(cloud_time_rfc1123(1132253398, r), 0);
	assert_string_equal(r, "Thu, 17 Nov 2005 18:49:58 GMT");
	assert_int_equal(cloud_time_iso8601(1507636974, i), 0);
	assert_string_equal(i, "2017-10-10T12:02:54Z");
	assert_int_equal(cloud_time_iso8601_basic(1702784856, ib), 0);
	assert_string_equal(ib, "20231217T034736Z");
	assert_int_equal(cloud_time_date(1551113065, d), 0);
	assert_string_equal(d, "2019-02-25");
	assert_int_equal(cloud_time_date(-1, d), ERR_INPUT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tc3_payload_hash),
	    cmocka_unit_test(test_tc3_canonical_request),
	    cmocka_unit_test(test_tc3_string_to_sign),
	    cmocka_unit_test(test_tc3_authorization),
	    cmocka_unit_test(test_tc3_sensitivity),
	    cmocka_unit_test(test_cos_put_http_string),
	    cmocka_unit_test(test_cos_put_string_to_sign),
	    cmocka_unit_test(test_cos_put_authorization),
	    cmocka_unit_test(test_cos_put_english_path_is_wrong),
	    cmocka_unit_test(test_cos_get_vector),
	    cmocka_unit_test(test_cos_valueless_param),
	    cmocka_unit_test(test_ali_rpc_doc_example),
	    cmocka_unit_test(test_ali_rpc_encoding_edges),
	    cmocka_unit_test(test_oss_v1_doc_example),
	    cmocka_unit_test(test_oss_v1_go_sdk_vectors),
	    cmocka_unit_test(test_oss_v1_subresources),
	    cmocka_unit_test(test_oss_v4_token_vector),
	    cmocka_unit_test(test_oss_v4_plain_and_additional),
	    cmocka_unit_test(test_uri_encode),
	    cmocka_unit_test(test_uri_encode_cap),
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_time_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
