"""Signature algorithms of the emulated clouds (Python stdlib only).

Written from the platforms' public signature documentation, as summed up with
its sources in docs/platforms.md (sections 1.1, 1.2, 1.4, 2.1, 2.2, 2.4).  Every function
returns the intermediate strings too, so that the emulator can report
precisely which part of a signature differed.
"""
import base64
import hashlib
import hmac
import urllib.parse

UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"


def rfc3986(s, safe=""):
    """UTF-8 percent-encoding of everything except A-Z a-z 0-9 - _ . ~ (upper-case hex)."""
    if isinstance(s, bytes):
        b = s
    else:
        b = str(s).encode("utf-8")
    return urllib.parse.quote(b, safe=safe + "-_.~")


def _hmac(key, msg, algo):
    if isinstance(key, str):
        key = key.encode("utf-8")
    if isinstance(msg, str):
        msg = msg.encode("utf-8")
    return hmac.new(key, msg, algo).digest()


def sha256_hex(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------------
# Tencent API 3.0: TC3-HMAC-SHA256
# --------------------------------------------------------------------------------------------

def tc3_canonical_request(method, uri, query, headers, signed_headers, payload_hash):
    """headers: list of (lowercase name, value) in the order given by signed_headers."""
    canon_headers = "".join("%s:%s\n" % (k, v) for k, v in headers)
    return "\n".join([method, uri, query, canon_headers, signed_headers, payload_hash])


def tc3_string_to_sign(timestamp, scope, canonical_request):
    return "TC3-HMAC-SHA256\n%s\n%s\n%s" % (timestamp, scope, sha256_hex(canonical_request))


def tc3_signature(secret_key, date, service, string_to_sign):
    k_date = _hmac("TC3" + secret_key, date, hashlib.sha256)
    k_service = _hmac(k_date, service, hashlib.sha256)
    k_signing = _hmac(k_service, "tc3_request", hashlib.sha256)
    return hmac.new(k_signing, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def tc3_intermediate_keys(secret_key, date, service):
    k_date = _hmac("TC3" + secret_key, date, hashlib.sha256)
    k_service = _hmac(k_date, service, hashlib.sha256)
    k_signing = _hmac(k_service, "tc3_request", hashlib.sha256)
    return k_date.hex(), k_service.hex(), k_signing.hex()


# --------------------------------------------------------------------------------------------
# Tencent API 3.0: the older signature ("v1": HmacSHA1 / HmacSHA256 over sorted raw params)
# --------------------------------------------------------------------------------------------

def tencent_v1_string_to_sign(method, host, path, params):
    items = sorted((k, v) for k, v in params.items() if k != "Signature")
    return "%s%s%s?%s" % (method.upper(), host, path, "&".join("%s=%s" % (k, v) for k, v in items))


def tencent_v1_signature(secret_key, string_to_sign, method="HmacSHA1"):
    algo = hashlib.sha256 if method == "HmacSHA256" else hashlib.sha1
    return base64.b64encode(_hmac(secret_key, string_to_sign, algo)).decode()


def tencent_callback_sign(sign_key, t):
    """Sign = MD5(SignKey + T) (lower-case hex)."""
    return hashlib.md5(("%s%s" % (sign_key, t)).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------
# COS q-sign (sha1)
# --------------------------------------------------------------------------------------------

def cos_format_pairs(pairs):
    """pairs: list of (name, value) *decoded*.  Returns (list 'a;b', 'a=..&b=..')."""
    enc = sorted((rfc3986(k).lower(), rfc3986(v)) for k, v in pairs)
    return ";".join(k for k, _ in enc), "&".join("%s=%s" % kv for kv in enc)


def cos_sign_key(secret_key, key_time):
    return hmac.new(secret_key.encode(), key_time.encode(), hashlib.sha1).hexdigest()


def cos_http_string(method, path_decoded, http_parameters, http_headers):
    return "%s\n%s\n%s\n%s\n" % (method.lower(), path_decoded, http_parameters, http_headers)


def cos_string_to_sign(sign_time, http_string):
    return "sha1\n%s\n%s\n" % (sign_time, hashlib.sha1(http_string.encode("utf-8")).hexdigest())


def cos_signature(secret_key, key_time, string_to_sign):
    sk = cos_sign_key(secret_key, key_time)
    return hmac.new(sk.encode(), string_to_sign.encode("utf-8"), hashlib.sha1).hexdigest()


def parse_cos_authorization(value):
    out = {}
    for part in value.split("&"):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k.strip()] = v.strip()
    return out


# --------------------------------------------------------------------------------------------
# Alibaba VOD RPC signature (HMAC-SHA1, SignatureVersion 1.0)
# --------------------------------------------------------------------------------------------

def ali_percent_encode(s):
    return rfc3986(s)


def ali_rpc_canonical_query(params):
    items = sorted((k, v) for k, v in params.items() if k != "Signature" and v is not None and v != "")
    return "&".join("%s=%s" % (ali_percent_encode(k), ali_percent_encode(v)) for k, v in items)


def ali_rpc_string_to_sign(method, params):
    return "%s&%s&%s" % (method.upper(), ali_percent_encode("/"), ali_percent_encode(ali_rpc_canonical_query(params)))


def ali_rpc_signature(secret, string_to_sign):
    return base64.b64encode(_hmac(secret + "&", string_to_sign, hashlib.sha1)).decode()


# --------------------------------------------------------------------------------------------
# Alibaba ACS3-HMAC-SHA256 (OpenAPI "V3")
# --------------------------------------------------------------------------------------------

def acs3_canonical_query(pairs):
    enc = sorted((rfc3986(k), rfc3986(v)) for k, v in pairs)
    return "&".join("%s=%s" % kv for kv in enc)


def acs3_canonical_request(method, uri, canonical_query, headers, signed_headers, payload_hash):
    canon_headers = "".join("%s:%s\n" % (k, v) for k, v in headers)
    return "\n".join([method, uri or "/", canonical_query, canon_headers, signed_headers, payload_hash])


def acs3_signature(secret, canonical_request):
    sts = "ACS3-HMAC-SHA256\n" + sha256_hex(canonical_request)
    return sts, hmac.new(secret.encode(), sts.encode("utf-8"), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------------------------
# OSS V1 and V4
# --------------------------------------------------------------------------------------------

OSS_SUBRESOURCES = set("""acl uploads location cors logging website referer lifecycle delete append tagging
objectMeta uploadId partNumber security-token position img style styleName replication replicationProgress
replicationLocation cname bucketInfo comp qos live status vod startTime endTime symlink x-oss-process
response-content-type response-content-language response-expires response-cache-control
response-content-disposition response-content-encoding udf udfName udfImage udfId udfImageDesc udfApplication
udfApplicationLog restore callback callback-var policy stat encryption versions versioning versionId sequential
continuation-token regionList cloudboxes inventory inventoryId worm wormId wormExtend x-oss-traffic-limit
x-oss-request-payer x-oss-ac-source-ip x-oss-ac-subnet-mask x-oss-ac-vpc-id x-oss-ac-forward-allow""".split())


def oss_canonical_headers(headers):
    """headers: iterable of (name, value)."""
    h = {}
    for k, v in headers:
        lk = k.lower().strip()
        if lk.startswith("x-oss-"):
            h[lk] = v.strip()
    return "".join("%s:%s\n" % (k, h[k]) for k in sorted(h))


def oss_canonical_resource(bucket, key, query_pairs):
    res = "/%s/%s" % (bucket, key) if bucket else "/"
    subs = sorted((k, v) for k, v in query_pairs if k in OSS_SUBRESOURCES)
    if subs:
        res += "?" + "&".join(k if (v is None or v == "") else "%s=%s" % (k, v) for k, v in subs)
    return res


def oss_v1_string_to_sign(verb, content_md5, content_type, date, canonical_headers, canonical_resource):
    return "%s\n%s\n%s\n%s\n%s%s" % (verb, content_md5, content_type, date, canonical_headers, canonical_resource)


def oss_v1_signature(secret, string_to_sign):
    return base64.b64encode(_hmac(secret, string_to_sign, hashlib.sha1)).decode()


def oss_v4_canonical_request(verb, bucket, key, query_raw_pairs, headers, additional, payload="UNSIGNED-PAYLOAD"):
    """query_raw_pairs: (encoded key, encoded value or None).  headers: (name, value) pairs."""
    uri = rfc3986("/" + bucket + "/" + key if bucket else "/", safe="/")
    q = sorted(query_raw_pairs)
    cq = "&".join(k if (v is None or v == "") else "%s=%s" % (k, v) for k, v in q)
    add = sorted(a.lower() for a in additional)
    h = {}
    for k, v in headers:
        lk = k.lower().strip()
        if lk in ("content-type", "content-md5") or lk.startswith("x-oss-") or lk in add:
            h[lk] = v.strip()
    ch = "".join("%s:%s\n" % (k, h[k]) for k in sorted(h))
    return "\n".join([verb, uri, cq, ch, ";".join(add), payload])


def oss_v4_signature(secret, datetime_str, region, canonical_request, product="oss"):
    date = datetime_str[:8]
    scope = "%s/%s/%s/aliyun_v4_request" % (date, region, product)
    sts = "OSS4-HMAC-SHA256\n%s\n%s\n%s" % (datetime_str, scope, sha256_hex(canonical_request))
    k = _hmac("aliyun_v4" + secret, date, hashlib.sha256)
    k = _hmac(k, region, hashlib.sha256)
    k = _hmac(k, product, hashlib.sha256)
    k = _hmac(k, "aliyun_v4_request", hashlib.sha256)
    return sts, hmac.new(k, sts.encode("utf-8"), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------------------------
# Alibaba VOD callback authentication
# --------------------------------------------------------------------------------------------

def ali_callback_signature(url, timestamp, key):
    return hashlib.md5(("%s|%s|%s" % (url, timestamp, key)).encode("utf-8")).hexdigest()
