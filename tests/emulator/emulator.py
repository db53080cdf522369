#!/usr/bin/env python3
"""vodhook cloud emulator: Tencent VOD + COS, Alibaba VOD + OSS, their callbacks, faults and inspection.

Python 3 standard library only.  See README.md in this directory.
"""
import argparse
import base64
import binascii
import ctypes
import ctypes.util
import hashlib
import json
import os
import random
import re
import socket
import ssl
import struct
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emu_sig as S  # noqa: E402

CHUNK = 1 << 20
TENCENT_SKEW = 300          # X-TC-Timestamp / v1 Timestamp: +-5 min
ALI_SKEW = 900              # RPC Timestamp: 15 min
OSS_SKEW = 900              # OSS Date: 15 min
NONCE_WINDOW = 900
COS_MIN_PART = 1024 * 1024
OSS_MIN_PART = 100 * 1024
DEFAULT_TENCENT_BUCKET = "vodtest-1250000000"
DEFAULT_TENCENT_REGION = "ap-guangzhou"
DEFAULT_ALI_BUCKET = "outin-5e2b1f3a9c7d11eeb2a400163e1c35d5"

VERBOSE = False

# CRC-64/XZ, what COS and OSS call crc64ecma (x-cos-hash-crc64ecma,
# x-oss-hash-crc64ecma): liblzma's lzma_crc64, which Python's own lzma module
# links (the standard library has no CRC-64 function; a pure-Python one
# would read a few MB/s). test_vectors.py checks its catalogued value.
_LZMA = ctypes.CDLL(ctypes.util.find_library("lzma") or "liblzma.so.5")
_LZMA.lzma_crc64.restype = ctypes.c_uint64
_LZMA.lzma_crc64.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint64]


def crc64(data, crc=0):
    """CRC-64/XZ of a bytes-like object, continued from crc (0 to start)."""
    n = len(data)
    if n == 0:
        return crc
    if isinstance(data, bytes):
        return _LZMA.lzma_crc64(data, n, crc)
    return _LZMA.lzma_crc64((ctypes.c_char * n).from_buffer(data), n, crc)


def crc64_of_files(paths, flip_first=False):
    """CRC-64 of the files joined, optionally with their first byte flipped."""
    crc = 0
    first = flip_first
    for path in paths:
        with open(path, "rb") as f:
            while True:
                b = f.read(CHUNK * 4)
                if not b:
                    break
                if first:
                    b = bytes([b[0] ^ 0xFF]) + b[1:]
                    first = False
                crc = crc64(b, crc)
    return crc


def corrupt_file(path):
    """Flip the first byte of a stored body (the 'corrupt' fault); its new MD5 and CRC-64."""
    with open(path, "r+b") as f:
        b = f.read(1)
        if b:
            f.seek(0)
            f.write(bytes([b[0] ^ 0xFF]))
    h, crc = hashlib.md5(), 0
    with open(path, "rb") as f:
        while True:
            b = f.read(CHUNK * 4)
            if not b:
                break
            h.update(b)
            crc = crc64(b, crc)
    return h.hexdigest(), crc


def log(*a):
    if VERBOSE:
        print("[emu %s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def iso(t=None):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t if t is not None else time.time()))


def http_date(t=None):
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(t if t is not None else time.time()))


def parse_http_date(s):
    import email.utils
    try:
        dt = email.utils.parsedate_to_datetime(s)
        return dt.timestamp()
    except Exception:
        return None


def rand_hex(n):
    return binascii.hexlify(os.urandom((n + 1) // 2)).decode()[:n]


def xml_escape(s):
    return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def dict_to_xml(tag, d):
    out = ["<%s>" % tag]
    for k, v in d.items():
        if isinstance(v, dict):
            out.append(dict_to_xml(k, v))
        elif isinstance(v, list):
            for it in v:
                out.append(dict_to_xml(k, it) if isinstance(it, dict) else "<%s>%s</%s>" % (k, xml_escape(it), k))
        elif v is None:
            continue
        else:
            if isinstance(v, bool):
                v = "true" if v else "false"
            out.append("<%s>%s</%s>" % (k, xml_escape(v), k))
    out.append("</%s>" % tag)
    return "".join(out)


class Abort(Exception):
    """Raised to stop handling a request without sending anything (connection dropped)."""


class Reject(Exception):
    def __init__(self, status, code, message, reason=None, extra=None):
        super().__init__(reason or message)
        self.status = status
        self.code = code
        self.message = message
        self.reason = reason or message
        self.extra = extra or {}


# ============================================================================================
# State
# ============================================================================================

class State:
    def __init__(self, args):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.args = args
        self.state_dir = args.state_dir
        os.makedirs(os.path.join(self.state_dir, "objects"), exist_ok=True)
        os.makedirs(os.path.join(self.state_dir, "parts"), exist_ok=True)
        self.tencent_secrets = dict(s.split(":", 1) for s in (args.tencent_secret or ["AKIDemu:emusecret"]))
        self.alibaba_keys = dict(s.split(":", 1) for s in (args.alibaba_key or ["LTAIemu:emusecret"]))
        self.config = {
            "tencent_callback_url": args.tencent_callback_url,
            "tencent_event_mode": args.tencent_event_mode,
            "tencent_legacy": bool(args.tencent_legacy),
            "tencent_sign_key": args.tencent_sign_key,
            "tencent_source_type": "ServerUpload",
            "alibaba_callback_url": args.alibaba_callback_url,
            "alibaba_auth_key": args.alibaba_auth_key,
            "credential_ttl": args.credential_ttl,
            "processing_delay_ms": 0,
            "rate_limit_bps": 0,
            "request_delay_ms": 0,
            "slowdown_above": 0,
            "crc64_headers": True,
            # The account's applications besides the primary one (Tencent SubAppIds, Alibaba AppIds):
            # a call naming another is refused as the platform refuses it.
            "tencent_subapp_ids": ["1500000001", "1500000002"],
            "alibaba_app_ids": ["app-1000000", "app-2000001"],
        }
        self._initial_config = dict(self.config)
        self.reset(full=True)

    def reset(self, full=False):
        with self.lock:
            old_files = []
            for ev in getattr(self, "pull_stalled", {}).values():
                ev.set()
            if not full:
                old_files = [o["path"] for o in self.objects.values()]
                for u in self.uploads.values():
                    old_files += [p["path"] for p in u["parts"].values()]
            self.objects = {}          # (bucket, key) -> {service,size,md5,etag,path,t}
            self.uploads = {}          # uploadId -> {service,bucket,key,parts{n:{size,md5,etag,path}},t}
            self.calls = []
            self.rejections = []
            self.callbacks = []
            self.faults = []
            self.creds = {}            # tmp ak -> {provider,secret,token,expires,bucket,keys,...}
            self.tc_sessions = {}      # VodSessionKey -> session
            self.media = {}            # FileId/VideoId/ImageId -> media dict
            self.ali_by_object = {}    # (bucket,key) -> media id
            self.ali_url_jobs = {}     # JobId -> GetURLUploadInfos entry (UploadMediaByURL)
            self.tc_pull_tasks = {}    # TaskId -> PullUploadTask (PullUpload)
            self.pull_faults = []      # "sync" / "stall" for the next PullUpload(s)
            self.pull_stalled = {}     # TaskId -> threading.Event that lets a stalled pull finish
            self.nonces = {}           # nonce -> t
            self.tc_events = []        # PULL queue: {handle, body, lease_until}
            self.cred_expiry_fault = None
            self.callback_faults = []
            self.processing_faults = []
            self.kind_counts = {}
            self.parts_active = 0      # UploadPart requests being served (WAN mode)
            self.parts_active_max = 0  # the most at once since the reset
            self.slowdowns = 0         # UploadPart requests answered 503 SlowDown
            if not full:
                self.config = dict(self._initial_config)
            self.cond.notify_all()
        for p in old_files:
            try:
                os.unlink(p)
            except OSError:
                pass

    def record_call(self, service, action, params, nbytes, status=200, **extra):
        with self.lock:
            d = {"service": service, "action": action, "t": time.time(), "params": params,
                 "bytes": nbytes, "status": status}
            if getattr(REQUEST, "delayed_ms", None):
                d["delayed_ms"] = REQUEST.delayed_ms
            if getattr(REQUEST, "concurrent", None):
                d["concurrent"] = REQUEST.concurrent
                d["t0"] = REQUEST.t0
            if getattr(REQUEST, "corrupt", False):
                d["fault"] = "corrupt"
            d.update(extra)
            self.calls.append(d)

    def record_rejection(self, service, action, status, code, reason, **extra):
        with self.lock:
            d = {"service": service, "action": action, "status": status, "code": code,
                 "reason": reason, "t": time.time()}
            d.update(extra)
            self.rejections.append(d)
        log("REJECT", service, action, status, code, reason[:300])

    # --- faults ---------------------------------------------------------------------------
    def add_fault(self, f):
        with self.lock:
            for k in ("rate_limit_bps", "request_delay_ms", "slowdown_above"):
                if k in f:
                    self.config[k] = int(f[k] or 0)
            if "callbacks" in f or "delay_ms" in f:
                self.callback_faults.append({"mode": f.get("callbacks"), "delay_ms": int(f.get("delay_ms") or 0),
                                             "repeat": bool(f.get("repeat"))})
            if "processing" in f:
                if f["processing"] not in ("fail", "snapshot"):
                    raise ValueError("processing fault must be \"fail\" or \"snapshot\"")
                self.processing_faults.append({"mode": f["processing"], "repeat": bool(f.get("repeat"))})
            if "pull" in f:
                # Tencent PullUpload: "sync" finishes the pull (its PullComplete delivered) before
                # PullUpload answers; "stall" keeps it PROCESSING until "release" lets it go on.
                if f["pull"] == "release":
                    for ev in self.pull_stalled.values():
                        ev.set()
                    self.pull_stalled = {}
                elif f["pull"] in ("sync", "stall"):
                    self.pull_faults.append({"mode": f["pull"], "repeat": bool(f.get("repeat"))})
                else:
                    raise ValueError("pull fault must be \"sync\", \"stall\" or \"release\"")
            if "expire_credentials_after_requests" in f:
                self.cred_expiry_fault = {"n": int(f["expire_credentials_after_requests"]), "seen": 0,
                                          "repeat": bool(f.get("repeat"))}
            if "kind" in f:
                ff = dict(f)
                ff["nth"] = int(ff.get("nth", 1))
                ff["seen"] = 0
                self.faults.append(ff)

    def match_fault(self, kind):
        with self.lock:
            fired = None
            for f in list(self.faults):
                if f["kind"] != kind and f["kind"] != "*":
                    continue
                f["seen"] += 1
                fire = (f["seen"] == f["nth"]) if not f.get("repeat") else (f["seen"] % f["nth"] == 0)
                if fire and fired is None:
                    if not f.get("repeat"):
                        self.faults.remove(f)
                    fired = dict(f)
            return fired

    def take_callback_fault(self):
        with self.lock:
            if not self.callback_faults:
                return None
            f = self.callback_faults[0]
            if not f["repeat"]:
                self.callback_faults.pop(0)
            return dict(f)

    def take_processing_fault(self):
        """The processing fault for the next Alibaba video with a TemplateGroupId/WorkflowId, or None."""
        with self.lock:
            if not self.processing_faults:
                return None
            f = self.processing_faults[0]
            if not f["repeat"]:
                self.processing_faults.pop(0)
            return dict(f)

    def take_pull_fault(self):
        with self.lock:
            if not self.pull_faults:
                return None
            f = self.pull_faults[0]
            if not f["repeat"]:
                self.pull_faults.pop(0)
            return dict(f)

    def storage_request_done(self):
        """Count accepted storage requests for the expire_credentials_after_requests fault."""
        with self.lock:
            f = self.cred_expiry_fault
            if not f:
                return
            f["seen"] += 1
            if f["seen"] >= f["n"]:
                now = time.time()
                for c in self.creds.values():
                    if c["issued"] <= now and not c.get("expired_by_fault"):
                        c["expired_by_fault"] = True
                        c["expires"] = min(c["expires"], now - 1)
                if f["repeat"]:
                    f["seen"] = 0
                else:
                    self.cred_expiry_fault = None

    # --- credentials ----------------------------------------------------------------------
    def issue_cred(self, provider, bucket, keys, prefix="", media_id=None):
        ttl = float(self.config["credential_ttl"])
        if provider == "tencent":
            ak = "AKIDtmp" + rand_hex(24)
            token = "tmptoken" + base64.b64encode(os.urandom(60)).decode().replace("=", "")
        else:
            ak = "STS.emu" + rand_hex(20)
            token = "CAIS" + base64.b64encode(os.urandom(120)).decode()
        c = {"provider": provider, "ak": ak, "secret": base64.b64encode(os.urandom(30)).decode().rstrip("="),
             "token": token, "issued": time.time(), "expires": time.time() + ttl, "bucket": bucket,
             "keys": set(keys), "prefix": prefix, "media_id": media_id}
        with self.lock:
            self.creds[ak] = c
        return c

    # --- objects ----------------------------------------------------------------------------
    def new_file(self, sub="objects"):
        return os.path.join(self.state_dir, sub, uuid.uuid4().hex)

    def put_object(self, service, bucket, key, path, size, md5hex, etag):
        with self.lock:
            old = self.objects.get((bucket, key))
            self.objects[(bucket, key)] = {"service": service, "bucket": bucket, "key": key, "size": size,
                                           "md5": md5hex, "etag": etag, "path": path, "t": time.time()}
        if old and old["path"] != path:
            try:
                os.unlink(old["path"])
            except OSError:
                pass

    def object_md5(self, o):
        if o["md5"] is None:
            h = hashlib.md5()
            with open(o["path"], "rb") as f:
                while True:
                    b = f.read(CHUNK * 4)
                    if not b:
                        break
                    h.update(b)
            o["md5"] = h.hexdigest()
        return o["md5"]


STATE = None
# The request being served on this thread (one connection per thread, its
# requests in turn): what a fault did to it, for its call record.
REQUEST = threading.local()


# ============================================================================================
# Callback delivery
# ============================================================================================

_ssl_unverified = ssl.create_default_context()
_ssl_unverified.check_hostname = False
_ssl_unverified.verify_mode = ssl.CERT_NONE


def http_post(url, body, headers, timeout=5):
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=_ssl_unverified) as r:
            r.read()
            return r.status, None
    except urllib.error.HTTPError as e:
        return e.code, None
    except Exception as e:  # noqa: BLE001
        return None, "%s: %s" % (type(e).__name__, e)


def deliver_one(provider, url, body_bytes, headers, retry_on_status):
    """Deliver with the documented retry policy: 3 attempts, 1 s apart."""
    for attempt in range(1, 4):
        status, err = http_post(url, body_bytes, headers)
        with STATE.lock:
            STATE.callbacks.append({"provider": provider, "url": url, "status": status, "error": err,
                                    "body": body_bytes.decode("utf-8", "replace"), "headers": headers,
                                    "attempt": attempt, "t": time.time()})
        if status is not None and (not retry_on_status or status == 200):
            return
        time.sleep(1)


def record_dropped(provider, url, body_bytes, headers, why="dropped (fault)"):
    with STATE.lock:
        STATE.callbacks.append({"provider": provider, "url": url, "status": None, "error": why,
                                "body": body_bytes.decode("utf-8", "replace"), "headers": headers,
                                "attempt": 0, "dropped": True, "t": time.time()})


class EventBatch:
    """A sequence of events produced for one upload; callback faults apply to the batch."""

    def __init__(self, provider, app=None):
        self.provider = provider
        self.app = app  # Tencent: the SubAppId whose events these are, when no media says it
        self.fault = STATE.take_callback_fault()
        self.pending = []

    def emit(self, item):
        """item = (url_or_None, body_dict_or_bytes, extra) ; delivered now unless the batch is reversed."""
        if self.fault and self.fault.get("mode") == "reverse":
            self.pending.append(item)
        else:
            self._send(item)

    def close(self):
        for item in reversed(self.pending):
            self._send(item)
        self.pending = []

    # The events that report processing, which the "drop_processing" fault drops.
    PROCESSING_EVENTS = ("ProcedureStateChanged", "StreamTranscodeComplete", "TranscodeComplete")
    # The events that report a deletion, which the "drop_delete" fault drops.
    DELETE_EVENTS = ("FileDeleted", "DeleteMediaComplete")

    def _send(self, item):
        f = self.fault or {}
        if f.get("delay_ms"):
            time.sleep(f["delay_ms"] / 1000.0)
        times = 2 if f.get("mode") == "duplicate" else 1
        body = item if self.provider == "tencent" else item[1]
        etype = body.get("EventType") or body.get("eventType") if isinstance(body, dict) else None
        drop = f.get("mode") == "drop" or (f.get("mode") == "drop_processing" and
                                           etype in self.PROCESSING_EVENTS) or \
            (f.get("mode") == "drop_delete" and etype in self.DELETE_EVENTS)
        for _ in range(times):
            if self.provider == "tencent":
                send_tencent_event(item, drop=drop, app=self.app)
            else:
                send_alibaba_event(item, drop=drop)


def tc_event_app(body):
    """The SubAppId of the media an event is about (None: the primary application): PULL mode keeps
    each application's events apart, as PullEvents and ConfirmEvents name one."""
    if not isinstance(body, dict):
        return None
    fid = None
    for k, v in body.items():
        if isinstance(v, dict) and k.endswith("Event"):
            fid = v.get("FileId") or fid
    if isinstance(body.get("data"), dict):
        fid = body["data"].get("fileId") or fid
    with STATE.lock:
        m = STATE.media.get(fid) if fid else None
        return m.get("sub_app_id") if m else None


def tc_app(p):
    """The SubAppId a Tencent call names (None: the primary application). Every API 3.0 call takes it
    (tencentcloud-sdk-go vod/v20180717 models.go, SubAppId *uint64 of each request); one the account does
    not have is InvalidParameterValue.SubAppId, the code client.go lists for ApplyUpload, CommitUpload and
    the others."""
    sub = p.get("SubAppId")
    if sub is None or str(sub) in ("", "0"):
        return None
    if isinstance(sub, bool) or not re.match(r"^[0-9]{1,20}$", str(sub)):
        raise TCError("InvalidParameterValue.SubAppId", "Invalid SubAppId.")
    if str(sub) not in [str(x) for x in STATE.config.get("tencent_subapp_ids") or []]:
        raise TCError("InvalidParameterValue.SubAppId", "SubAppId %s does not exist." % sub)
    return str(sub)


def send_tencent_event(body, drop=False, raw=None, app=None):
    cfg = STATE.config
    if raw is None:
        body = dict(body)
        if cfg.get("tencent_sign_key") and cfg.get("tencent_event_mode") != "pull":
            t = int(time.time()) + 600
            body["Sign"] = S.tencent_callback_sign(cfg["tencent_sign_key"], t)
            body["T"] = t
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    else:
        data = raw
    if cfg.get("tencent_event_mode") == "pull":
        if drop:
            record_dropped("tencent", "PULL", data, {})
            return
        with STATE.lock:
            STATE.tc_events.append({"handle": "EventHandle" + rand_hex(24), "body": json.loads(data),
                                    "lease_until": 0, "t": time.time(),
                                    "app": app or tc_event_app(json.loads(data))})
            STATE.callbacks.append({"provider": "tencent", "url": "PULL", "status": "queued",
                                    "body": data.decode("utf-8", "replace"), "headers": {}, "attempt": 0,
                                    "t": time.time()})
            STATE.cond.notify_all()
        return
    url = cfg.get("tencent_callback_url")
    headers = {"Content-Type": "application/json"}
    if not url:
        record_dropped("tencent", None, data, headers, "no callback URL configured")
        return
    if drop:
        record_dropped("tencent", url, data, headers)
        return
    # Legacy doc: response status/body ignored; retried (<=3 sends) on timeout / transport error only.
    deliver_one("tencent", url, data, headers, retry_on_status=False)


def send_alibaba_event(item, drop=False):
    url, body = item
    cfg = STATE.config
    url = url or cfg.get("alibaba_callback_url")
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    if cfg.get("alibaba_auth_key") and url:
        ts = str(int(time.time()))
        headers["X-VOD-TIMESTAMP"] = ts
        headers["X-VOD-SIGNATURE"] = S.ali_callback_signature(url, ts, cfg["alibaba_auth_key"])
    if not url:
        record_dropped("alibaba", None, data, headers, "no callback URL configured")
        return
    if drop:
        record_dropped("alibaba", url, data, headers)
        return
    deliver_one("alibaba", url, data, headers, retry_on_status=True)


def spawn(fn, *a):
    t = threading.Thread(target=guarded, args=(fn,) + a, daemon=True)
    t.start()
    return t


def guarded(fn, *a):
    try:
        fn(*a)
    except Exception:  # noqa: BLE001
        traceback.print_exc()


def processing_sleep():
    ms = int(STATE.config.get("processing_delay_ms") or 0)
    if ms:
        time.sleep(ms / 1000.0)


# ============================================================================================
# Tencent media processing
# ============================================================================================

def tc_media_basic(m):
    return {
        "Name": m["name"], "Description": "", "CreateTime": m["create_time"], "UpdateTime": iso(),
        "ExpireTime": m.get("expire_time") or "9999-12-31T23:59:59Z", "ClassId": m.get("class_id", 0),
        "ClassName": "Other", "ClassPath": "Other", "CoverUrl": m.get("cover_url", ""), "Type": m["type"],
        "MediaUrl": m["media_url"], "TagSet": [], "StorageRegion": m["storage_region"],
        "SourceInfo": {"SourceType": STATE.config.get("tencent_source_type") or "ServerUpload",
                       "SourceContext": m.get("source_context", "")},
        "Vid": "", "Category": m.get("category") or "Video", "Status": "Normal", "StorageClass": "STANDARD",
    }


def tc_meta(m):
    return {"Size": m["size"], "Container": "mov,mp4,m4a,3gp,3g2,mj2", "Bitrate": 1021028, "Height": 480,
            "Width": 640, "Duration": 60, "Rotate": 0,
            "VideoStreamSet": [{"Bitrate": 637174, "Height": 480, "Width": 640, "Codec": "h264", "Fps": 23}],
            "AudioStreamSet": [{"Bitrate": 383854, "SamplingRate": 48000, "Codec": "aac"}],
            "VideoDuration": 60, "AudioDuration": 59.990001678467}


def tc_transcode_results(m, status):
    base = m["media_url"].rsplit("/", 1)[0]
    out = []
    for d in (100010, 100020):
        task = {"Status": status, "ErrCode": 0, "ErrCodeExt": "", "Message": "SUCCESS" if status == "SUCCESS" else "",
                "Progress": 100 if status == "SUCCESS" else 0, "Input": {"Definition": d}}
        if status == "SUCCESS":
            task["Output"] = {"Url": "%s/v.f%d.mp4" % (base, d), "Definition": d, "Size": m["size"],
                              "Container": "mov,mp4,m4a,3gp,3g2,mj2", "Height": 480, "Width": 640,
                              "Bitrate": 552218, "Md5": m.get("md5", ""), "Duration": 60}
        out.append({"Type": "Transcode", "TranscodeTask": task})
    return out


# The sub-tasks of a task flow, as MediaProcessResultSet[] items (MediaProcessTaskResult: Type plus the
# member of that type; tencentcloud-sdk-go vod/v20180717 models.go). mode "transcode": two transcodes;
# "fail": the first transcode fails (Status FAIL with ErrCodeExt, as the video-processing error codes of
# https://cloud.tencent.com/document/product/266/50368 name them); "snapshot": a task flow with no
# transcode, only a SnapshotByTimeOffset task.
def tc_procedure_results(m, mode, status):
    if mode == "snapshot":
        task = {"Status": "SUCCESS" if status == "FINISH" else "PROCESSING", "ErrCodeExt": "", "ErrCode": 0,
                "Message": "SUCCESS", "Progress": 100 if status == "FINISH" else 0,
                "Input": {"Definition": 10, "ExtTimeOffsetSet": [], "TimeOffsetSet": [0]}, "Output": None}
        if status == "FINISH":
            task["Output"] = {"Definition": 10, "PicInfoSet": [
                {"TimeOffset": 0, "Url": "%s/snap0.jpg" % m["media_url"].rsplit("/", 1)[0]}]}
        return [{"Type": "SnapshotByTimeOffset", "TranscodeTask": None, "SnapshotByTimeOffsetTask": task}]
    results = tc_transcode_results(m, "SUCCESS" if status == "FINISH" else "PROCESSING")
    if mode == "fail" and status == "FINISH":
        t = results[0]["TranscodeTask"]
        t.update({"Status": "FAIL", "ErrCodeExt": "SourceFileError.ContentMalformed", "ErrCode": 30010,
                  "Message": "source file is malformed (emulator fault)", "Output": None, "Progress": 0})
    return results


def tc_legacy_task(r):
    t = r.get("TranscodeTask") or r.get("SnapshotByTimeOffsetTask") or {}
    return {"taskType": r["Type"], "status": t.get("Status"), "errCode": t.get("ErrCode", 0),
            "errCodeExt": t.get("ErrCodeExt", ""), "message": t.get("Message", ""),
            "input": {"definition": (t.get("Input") or {}).get("Definition")}}


# ProcedureTask, the struct that both ProcedureStateChanged and DescribeTaskDetail carry.
def tc_procedure_task(m):
    return {"TaskId": m["procedure_task_id"], "Status": m.get("procedure_status") or "PROCESSING",
            "ErrCode": 0, "Message": "", "FileId": m["file_id"], "FileName": m["name"],
            "FileUrl": m["media_url"], "MetaData": tc_meta(m),
            "MediaProcessResultSet": m.get("procedure_results") or [],
            "AiContentReviewResultSet": [], "AiAnalysisResultSet": [], "AiRecognitionResultSet": [],
            "TasksPriority": 0, "TasksNotifyMode": "Finish", "SessionContext": m.get("session_context", ""),
            "SessionId": "", "Operator": "", "OperationType": ""}


def tc_events_for(m, first=None):
    """The events of a media: NewFileUpload (or first, a PullComplete), then its task flow."""
    legacy = STATE.config.get("tencent_legacy")
    batch = EventBatch("tencent")
    if first is not None:
        batch.emit(first)
    elif legacy:
        batch.emit({"version": "4.0", "eventType": "NewFileUpload", "data": {
            "status": 0, "message": "", "fileId": m["file_id"], "fileName": m["name"],
            "coverUrl": m.get("cover_url", ""), "fileUrl": m["media_url"], "author": "",
            "sourceType": STATE.config.get("tencent_source_type") or "ServerUpload",
            "sourceContext": m.get("source_context", ""), "streamId": "",
            "procedureTaskId": m.get("procedure_task_id", ""), "transcodeTaskId": ""}})
    else:
        batch.emit({"EventType": "NewFileUpload", "FileUploadEvent": {
            "FileId": m["file_id"], "MediaBasicInfo": tc_media_basic(m),
            "ProcedureTaskId": m.get("procedure_task_id", ""), "ReviewAudioVideoTaskId": "",
            "MetaData": tc_meta(m)}})
    if m.get("procedure"):
        fault = STATE.take_processing_fault()
        mode = fault["mode"] if fault else "transcode"
        for status in ("PROCESSING", "FINISH"):
            if status == "FINISH":
                processing_sleep()
            results = tc_procedure_results(m, mode, status)
            with STATE.lock:
                m["procedure_status"] = status
                m["procedure_results"] = results
                if status == "FINISH":
                    m["procedure_finish_time"] = iso()
                    m["state"] = "Normal"
                    if mode != "snapshot":
                        m["transcode"] = results
                else:
                    m["procedure_begin_time"] = iso()
                    m["state"] = "Processing"
            if legacy:
                batch.emit({"version": "4.0", "eventType": "ProcedureStateChanged", "data": {
                    "vodTaskId": m["procedure_task_id"], "status": status, "message": "", "errCode": 0,
                    "fileId": m["file_id"], "metaData": {"size": m["size"], "container": "mp4", "bitrate": 1021028,
                                                         "height": 480, "width": 640, "duration": 60,
                                                         "md5": m.get("md5", "")},
                    "processTaskList": [tc_legacy_task(r) for r in results]}})
            else:
                batch.emit({"EventType": "ProcedureStateChanged", "ProcedureStateChangeEvent": tc_procedure_task(m)})
    batch.close()


# ============================================================================================
# Alibaba media processing
# ============================================================================================

def ali_extend(m):
    ud = m.get("user_data") or {}
    ext = ud.get("Extend")
    if ext is None:
        return None
    return ext if isinstance(ext, str) else json.dumps(ext, separators=(",", ":"), ensure_ascii=False)


def ali_callback_url(m):
    ud = m.get("user_data") or {}
    mc = ud.get("MessageCallback")
    if isinstance(mc, str):
        try:
            mc = json.loads(mc)
        except ValueError:
            mc = None
    if isinstance(mc, dict) and mc.get("CallbackURL"):
        return mc["CallbackURL"]
    return None


def ali_events_for(m, pre=None):
    """Called (in a thread) when the OSS object of a video/image has completed."""
    batch = EventBatch("alibaba")
    url = ali_callback_url(m)
    ext = ali_extend(m)
    for ev in (pre or []):
        batch.emit((url, ev))
    if m["kind"] == "attached":
        # AttachedMediaUploadComplete, as the reference's sample: AttachedMediaId, Size, FileURL, Status.
        ev = {"EventTime": iso(), "EventType": "AttachedMediaUploadComplete", "AttachedMediaId": m["id"],
              "Size": m["size"], "FileURL": m["file_url"], "Status": "success"}
        if ext is not None:
            ev["Extend"] = ext
        with STATE.lock:
            m["state"] = "Normal"
        batch.emit((url, ev))
        batch.close()
        return
    if m["kind"] == "image":
        ev = {"Status": "success", "FileURL": m["file_url"], "AppId": m.get("app_id", "app-1000000"),
              "EventType": "ImageUploadComplete", "EventTime": iso(), "Size": m["size"], "ImageId": m["id"]}
        if ext is not None:
            ev["Extend"] = ext
        with STATE.lock:
            m["state"] = "Normal"
        batch.emit((url, ev))
        batch.close()
        return
    with STATE.lock:
        m["state"] = "UploadSucc"
    ev = {"EventTime": iso(), "EventType": "FileUploadComplete", "VideoId": m["id"], "Status": "success",
          "Size": m["size"], "FileUrl": m["file_url"]}
    if ext is not None:
        ev["Extend"] = ext
    batch.emit((url, ev))
    if m.get("template_group_id") or m.get("workflow_id"):
        with STATE.lock:
            m["state"] = "Transcoding"
        fault = STATE.take_processing_fault()
        processing_sleep()
        if fault and fault["mode"] == "fail":
            # The reference has no sample of a failed transcode: the stream's ErrorCode/ErrorMessage fields
            # (StreamTranscodeComplete) are used, and Video.Status becomes TranscodeFail.
            si = {"Status": "fail", "Definition": "LD", "ErrorCode": "InvalidVideo.Damaged",
                  "ErrorMessage": "transcoding failed (emulator fault)", "JobId": rand_hex(32)}
            ev = {"EventTime": iso(), "EventType": "StreamTranscodeComplete", "VideoId": m["id"]}
            ev.update(si)
            if ext is not None:
                ev["Extend"] = ext
            batch.emit((url, ev))
            with STATE.lock:
                m["state"] = "TranscodeFail"
            ev = {"EventTime": iso(), "EventType": "TranscodeComplete", "VideoId": m["id"], "Status": "fail",
                  "ErrorCode": si["ErrorCode"], "ErrorMessage": si["ErrorMessage"], "StreamInfos": [si]}
            if ext is not None:
                ev["Extend"] = ext
            batch.emit((url, ev))
            batch.close()
            return
        streams = []
        for defn, br, h, w in (("LD", "925", 960, 540), ("SD", "1575", 1280, 720)):
            si = {"Status": "success", "Bitrate": br, "Definition": defn, "Duration": 15.0, "Encrypt": False,
                  "FileUrl": "http://vod.emulator.local/%s/%s.mp4" % (m["id"], defn.lower()), "Format": "mp4",
                  "Fps": "30", "Height": h, "Size": m["size"], "Width": w, "JobId": rand_hex(32)}
            streams.append(si)
            ev = {"EventTime": iso(), "EventType": "StreamTranscodeComplete", "VideoId": m["id"]}
            ev.update(si)
            if ext is not None:
                ev["Extend"] = ext
            batch.emit((url, ev))
        with STATE.lock:
            m["state"] = "Normal"
            m["streams"] = streams
        ev = {"EventTime": iso(), "EventType": "TranscodeComplete", "VideoId": m["id"], "Status": "success",
              "StreamInfos": streams}
        if ext is not None:
            ev["Extend"] = ext
        batch.emit((url, ev))
    else:
        with STATE.lock:
            m["state"] = "Normal"
    batch.close()


def ali_object_completed(bucket, key, size, md5hex):
    with STATE.lock:
        mid = STATE.ali_by_object.get((bucket, key))
        m = STATE.media.get(mid) if mid else None
        if not m:
            return
        m["size"] = size
        m["md5"] = md5hex
        m["uploaded"] = True
    spawn(ali_events_for, m)


# ============================================================================================
# Request body reading (streamed, constant memory)
# ============================================================================================

class BodyReader:
    def __init__(self, handler, drop_after=None, rate=0):
        self.h = handler
        self.rfile = handler.rfile
        te = (handler.headers.get("Transfer-Encoding") or "").lower()
        self.chunked = "chunked" in te
        cl = handler.headers.get("Content-Length")
        self.remaining = int(cl) if (cl and not self.chunked) else (0 if not self.chunked else None)
        self.chunk_left = 0
        self.eof = (self.remaining == 0) and not self.chunked
        self.count = 0
        self.drop_after = drop_after
        self.rate = rate
        self.t0 = time.monotonic()
        self.buf = bytearray(CHUNK)
        self.mv = memoryview(self.buf)

    def _raw_read(self, n):
        n = self.rfile.readinto(self.cur[:n])
        if not n:
            raise Abort("client closed connection mid-body")
        return n

    def read_chunk(self, into=None):
        """Return a memoryview of the next piece of body (in `into` if given), or None at EOF."""
        if self.eof:
            return None
        self.cur = into if into is not None else self.mv
        self.h.send_continue()
        want = CHUNK
        if self.rate:
            want = max(1024, min(CHUNK, self.rate // 20))
        if self.drop_after is not None:
            left = self.drop_after - self.count
            if left <= 0:
                self.h.drop_connection()
            want = min(want, left)
        if self.chunked:
            if self.chunk_left == 0:
                line = self.rfile.readline(65537)
                if not line:
                    raise Abort("client closed connection in chunk header")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers
                        line = self.rfile.readline(65537)
                        if not line or line in (b"\r\n", b"\n"):
                            break
                    self.eof = True
                    return None
                self.chunk_left = size
            n = self._raw_read(min(want, self.chunk_left))
            self.chunk_left -= n
            if self.chunk_left == 0:
                self.rfile.readline(3)
        else:
            n = self._raw_read(min(want, self.remaining))
            self.remaining -= n
            if self.remaining == 0:
                self.eof = True
        self.count += n
        if self.rate:
            due = self.count / float(self.rate)
            el = time.monotonic() - self.t0
            if due > el:
                time.sleep(due - el)
        return self.cur[:n]

    def read_all(self, limit=64 << 20):
        out = bytearray()
        while True:
            c = self.read_chunk()
            if c is None:
                return bytes(out)
            out += c
            if len(out) > limit:
                raise Reject(400, "EntityTooLarge", "request body too large")

    def to_file(self, path):
        """Stream the body to `path`; MD5 and CRC-64 (self.crc64) run in a second thread (hashlib, ctypes
        and write release the GIL)."""
        import queue
        free, work = queue.Queue(), queue.Queue()
        for _ in range(4):
            free.put(memoryview(bytearray(CHUNK)))
        h = hashlib.md5()
        self.crc64 = 0

        def hasher():
            while True:
                item = work.get()
                if item is None:
                    return
                h.update(item[0][:item[1]])
                self.crc64 = crc64(item[0][:item[1]], self.crc64)
                free.put(item[0])
        t = threading.Thread(target=hasher, daemon=True)
        t.start()
        try:
            with open(path, "wb", buffering=0) as f:
                while True:
                    buf = free.get()
                    c = self.read_chunk(into=buf)
                    if c is None:
                        break
                    n = len(c)
                    f.write(c)
                    work.put((buf, n))
        finally:
            work.put(None)
            t.join()
        return self.count, h.hexdigest()

    def drain(self):
        while self.read_chunk() is not None:
            pass


# ============================================================================================
# HTTP handler
# ============================================================================================

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "vodhook-emulator"
    sys_version = ""
    rbufsize = 1 << 16

    def log_message(self, fmt, *a):
        if VERBOSE:
            log("%s %s" % (self.address_string(), fmt % a))

    # Defer "100 Continue" until the body is really wanted, so a rejection can be sent first.
    def handle_expect_100(self):
        self._expect_pending = True
        return True

    def send_continue(self):
        if getattr(self, "_expect_pending", False):
            self._expect_pending = False
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()

    def drop_connection(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True
        raise Abort("connection dropped on purpose (fault)")

    def do_GET(self):
        self.dispatch()

    do_PUT = do_POST = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def has_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        return "chunked" in te or int(self.headers.get("Content-Length") or 0) > 0

    def dispatch(self):
        try:
            self._dispatch()
        finally:
            if getattr(self, "_expect_pending", False) and not self.close_connection:
                # the client may still send the body it announced: cannot keep the connection in sync
                self.close_connection = True
            self._expect_pending = False

    def _dispatch(self):
        self._body = None
        REQUEST.delayed_ms = None
        REQUEST.corrupt = False
        REQUEST.concurrent = None
        REQUEST.t0 = time.time()
        self.resp_sent = False
        host_hdr = self.headers.get("Host") or ""
        self.host_full = host_hdr
        self.host = host_hdr.rsplit(":", 1)[0] if not host_hdr.startswith("[") else host_hdr
        self.host = self.host.lower()
        u = urllib.parse.urlsplit(self.path)
        self.raw_path = u.path
        self.raw_query = u.query
        try:
            if self.host == "emulator.local" or u.path.startswith("/_emu/") or u.path == "/_emu":
                return control(self)
            if re.match(r"^vod(\.[a-z0-9-]+)?\.tencentcloudapi\.com$", self.host):
                return tencent_api(self)
            m = re.match(r"^([a-z0-9.-]+)\.cos\.([a-z0-9-]+)\.(myqcloud\.com|tencentcos\.cn)$", self.host)
            if m:
                return cos_handler(self, m.group(1), m.group(2))
            m = re.match(r"^vod\.([a-z0-9-]+)\.aliyuncs\.com$", self.host)
            if m:
                return alibaba_api(self, m.group(1))
            m = re.match(r"^([a-z0-9-]+)\.oss-([a-z0-9-]+?)(-internal)?\.aliyuncs\.com$", self.host)
            if m:
                return oss_handler(self, m.group(1), m.group(2))
            STATE.record_rejection("unknown", "", 404, "UnknownHost", "no emulated service for Host %r" % host_hdr)
            self.finish_reject()
            self.send_bytes(404, b"unknown host\n", "text/plain")
        except Abort as e:
            log("abort:", e)
            self.close_connection = True
        except (ConnectionError, ssl.SSLError, BrokenPipeError) as e:
            log("connection error:", e)
            self.close_connection = True

    # -- response helpers --------------------------------------------------------------------
    def finish_reject(self):
        """Before an error response: drain or close so the connection stays consistent."""
        if self._body is not None and self._body.eof:
            return
        if not self.has_body():
            return
        if getattr(self, "_expect_pending", False):
            self.close_connection = True
            return
        try:
            br = self._body or BodyReader(self)
            if (br.remaining or 0) > (256 << 20):
                self.close_connection = True
                return
            br.drain()
        except Abort:
            self.close_connection = True

    def send_bytes(self, status, body, ctype="application/json", headers=None):
        if self.resp_sent:
            return
        self.resp_sent = True
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def send_json(self, status, obj, headers=None):
        self.send_bytes(status, json.dumps(obj, ensure_ascii=False, indent=1).encode("utf-8"),
                        "application/json; charset=utf-8", headers)

    def query_pairs(self):
        return urllib.parse.parse_qsl(self.raw_query, keep_blank_values=True)

    def body_reader(self, **kw):
        if self._body is None:
            self._body = BodyReader(self, **kw)
        return self._body


# ============================================================================================
# Control API
# ============================================================================================

def control(h):
    path = h.raw_path
    if path.startswith("/_emu"):
        path = path[len("/_emu"):]
    path = path.rstrip("/") or "/"
    method = h.command
    body = b""
    if h.has_body():
        body = h.body_reader().read_all()
    q = dict(h.query_pairs())
    st = STATE
    if method == "GET" and path == "/objects":
        with st.lock:
            objs = list(st.objects.values())
        out = [{"bucket": o["bucket"], "key": o["key"], "size": o["size"], "md5": st.object_md5(o),
                "etag": o["etag"], "service": o["service"]} for o in objs]
        return h.send_json(200, out)
    if method == "GET" and path == "/object":
        with st.lock:
            o = st.objects.get((q.get("bucket"), q.get("key")))
        if not o:
            return h.send_json(404, {"error": "no such object"})
        with open(o["path"], "rb") as f:
            return h.send_bytes(200, f.read(), "application/octet-stream")
    if method == "GET" and path == "/concurrency":
        with st.lock:
            return h.send_json(200, {"active": st.parts_active, "max": st.parts_active_max,
                                     "slowdowns": st.slowdowns})
    if method == "GET" and path == "/calls":
        with st.lock:
            return h.send_json(200, list(st.calls))
    if method == "GET" and path == "/rejections":
        with st.lock:
            return h.send_json(200, list(st.rejections))
    if method == "GET" and path == "/callbacks":
        with st.lock:
            return h.send_json(200, list(st.callbacks))
    if method == "GET" and path == "/media":
        with st.lock:
            out = [{k: v for k, v in m.items() if not k.startswith("_")} for m in st.media.values()]
        return h.send_json(200, out)
    if method == "GET" and path == "/pull_tasks":
        with st.lock:
            return h.send_json(200, [tc_pull_task_public(t) for t in st.tc_pull_tasks.values()])
    if method == "GET" and path == "/url_jobs":
        with st.lock:
            return h.send_json(200, [dict(j) for j in st.ali_url_jobs.values()])
    if method == "GET" and path == "/uploads":
        with st.lock:
            out = [{"uploadId": k, "bucket": u["bucket"], "key": u["key"], "service": u["service"],
                    "parts": sorted(u["parts"])} for k, u in st.uploads.items()]
        return h.send_json(200, out)
    if method == "GET" and path == "/events":
        with st.lock:
            return h.send_json(200, [{"handle": e["handle"], "body": e["body"]} for e in st.tc_events])
    if method == "GET" and path in ("/config", "/"):
        with st.lock:
            return h.send_json(200, {"config": st.config, "faults": st.faults,
                                     "callback_faults": st.callback_faults,
                                     "processing_faults": st.processing_faults,
                                     "cred_expiry_fault": st.cred_expiry_fault})
    if method == "POST" and path == "/reset":
        st.reset()
        return h.send_json(200, {"ok": True})
    if method == "POST" and path == "/faults":
        try:
            f = json.loads(body or b"{}")
        except ValueError as e:
            return h.send_json(400, {"error": "bad JSON: %s" % e})
        try:
            for ff in (f if isinstance(f, list) else [f]):
                st.add_fault(ff)
        except ValueError as e:
            return h.send_json(400, {"error": str(e)})
        return h.send_json(200, {"ok": True})
    if method == "POST" and path == "/config":
        try:
            c = json.loads(body or b"{}")
        except ValueError as e:
            return h.send_json(400, {"error": "bad JSON: %s" % e})
        bad = [k for k in c if k not in st.config]
        if bad:
            return h.send_json(400, {"error": "unknown config keys %s" % bad})
        with st.lock:
            st.config.update(c)
        return h.send_json(200, {"ok": True, "config": st.config})
    if method == "POST" and path == "/tencent/event":
        try:
            json.loads(body)
        except ValueError as e:
            return h.send_json(400, {"error": "bad JSON: %s" % e})
        fault = st.take_callback_fault() or {}

        def go():
            if fault.get("delay_ms"):
                time.sleep(fault["delay_ms"] / 1000.0)
            for _ in range(2 if fault.get("mode") == "duplicate" else 1):
                # ?sub_app_id=N: an event of that sub-application (PULL mode keeps them apart).
                app = q.get("sub_app_id") or None
                if st.config.get("tencent_sign_key") and st.config.get("tencent_event_mode") != "pull":
                    send_tencent_event(json.loads(body), drop=fault.get("mode") == "drop", app=app)
                else:
                    send_tencent_event(None, drop=fault.get("mode") == "drop", raw=body, app=app)
        if q.get("sync"):
            go()
        else:
            spawn(go)
        return h.send_json(200, {"ok": True})
    if method == "POST" and path == "/alibaba/event":
        try:
            json.loads(body)
        except ValueError as e:
            return h.send_json(400, {"error": "bad JSON: %s" % e})
        fault = st.take_callback_fault() or {}
        url = q.get("url")

        def go2():
            if fault.get("delay_ms"):
                time.sleep(fault["delay_ms"] / 1000.0)
            for _ in range(2 if fault.get("mode") == "duplicate" else 1):
                send_alibaba_event((url, body), drop=fault.get("mode") == "drop")
        if q.get("sync"):
            go2()
        else:
            spawn(go2)
        return h.send_json(200, {"ok": True})
    return h.send_json(404, {"error": "unknown control endpoint %s %s" % (method, path)})


def fault_status(h, service, kind, fault):
    """Answer a fault-injected error in the platform's error shape."""
    st = fault.get("status") or 503
    code = {500: "InternalError", 503: "ServiceUnavailable"}.get(st, "InternalError")
    msg = "injected fault (emulator): %s #%d" % (kind, fault.get("nth", 1))
    STATE.record_call(service, kind, {"fault": True}, h._body.count if h._body else 0, status=st,
                      fault="status %d" % st)
    h.finish_reject()
    rid = str(uuid.uuid4())
    if service in ("cos", "oss"):
        body = dict_to_xml("Error", {"Code": code, "Message": msg, "RequestId": rid, "HostId": h.host})
        hdr = {"x-cos-request-id" if service == "cos" else "x-oss-request-id": rid}
        return h.send_bytes(st, body.encode(), "application/xml", hdr)
    if service == "vod-alibaba":
        return h.send_json(st, {"RequestId": rid, "HostId": h.host, "Code": "ServiceUnAvailable"
                                if st == 503 else "InternalError", "Message": msg})
    # Tencent API: transport-level failure = non-200 status
    return h.send_json(st, {"Response": {"Error": {"Code": "InternalError", "Message": msg}, "RequestId": rid}})


def apply_kind_fault(h, service, kind):
    """Apply the fault due for this request of that kind, if any. True when
    it answered the request; a delay only holds the request, which is then
    served (and recorded with delayed_ms) as usual."""
    f = STATE.match_fault(kind)
    if not f:
        return False
    if f.get("corrupt"):
        REQUEST.corrupt = True
        return False
    if f.get("delay_ms") and f.get("status") is None and f.get("drop_after_bytes") is None:
        time.sleep(int(f["delay_ms"]) / 1000.0)
        REQUEST.delayed_ms = int(f["delay_ms"])
        return False
    if f.get("drop_after_bytes") is not None:
        br = h.body_reader(drop_after=int(f["drop_after_bytes"]))
        STATE.record_call(service, kind, {"fault": True}, 0, status=None,
                          fault="drop after %s bytes" % f["drop_after_bytes"])
        if not h.has_body() or int(f["drop_after_bytes"]) == 0:
            h.drop_connection()
        while br.read_chunk() is not None:
            pass
        h.drop_connection()
    fault_status(h, service, kind, f)
    return True


# ============================================================================================
# Tencent VOD API 3.0
# ============================================================================================

def unflatten(params):
    """'EventHandles.0'=a, 'X.0.Name'=b -> nested lists/dicts."""
    out = {}
    for k, v in params.items():
        parts = k.split(".")
        cur = out
        for i, p in enumerate(parts):
            last = i == len(parts) - 1
            if last:
                cur[p] = v
            else:
                cur = cur.setdefault(p, {})
    def fix(o):
        if isinstance(o, dict):
            o = {k: fix(v) for k, v in o.items()}
            if o and all(k.isdigit() for k in o):
                return [o[k] for k in sorted(o, key=int)]
        return o
    return fix(out)


class TCError(Exception):
    def __init__(self, code, message, reason=None):
        super().__init__(message)
        self.code, self.message, self.reason = code, message, reason or message


def tencent_api(h):
    st = STATE
    action = h.headers.get("X-TC-Action") or ""
    body = h.body_reader().read_all() if h.has_body() else b""
    ctype = (h.headers.get("Content-Type") or "").lower()
    params = {}
    form = {}
    if h.command == "GET":
        form = dict(h.query_pairs())
    elif "application/x-www-form-urlencoded" in ctype or ("Signature" in (h.raw_query or "")):
        form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if h.raw_query:
            form.update(dict(h.query_pairs()))
    elif body:
        try:
            params = json.loads(body)
        except ValueError:
            params = {}
    if not action:
        action = form.get("Action", "")
    rid = str(uuid.uuid4())
    try:
        auth = h.headers.get("Authorization") or ""
        if auth.startswith("TC3-HMAC-SHA256"):
            h._auth_kind = "TC3-HMAC-SHA256"
            tc3_verify(h, auth, body)
            if form:
                params = unflatten({k: v for k, v in form.items() if k not in (
                    "Action", "Version", "Region", "Timestamp", "Nonce", "SecretId", "Signature",
                    "SignatureMethod", "RequestClient", "Language", "Token")})
            version = h.headers.get("X-TC-Version") or form.get("Version")
        elif "Signature" in form:
            h._auth_kind = "v1-" + (form.get("SignatureMethod") or "HmacSHA1")
            tencent_v1_verify(h, form)
            params = unflatten({k: v for k, v in form.items() if k not in (
                "Action", "Version", "Region", "Timestamp", "Nonce", "SecretId", "Signature",
                "SignatureMethod", "RequestClient", "Language", "Token")})
            version = form.get("Version")
        else:
            raise TCError("AuthFailure.SignatureFailure", "The provided credentials could not be validated.",
                          "missing Authorization header and no Signature parameter")
        if version != "2018-07-17":
            raise TCError("NoSuchVersion", "The API version `%s` does not exist." % version,
                          "X-TC-Version/Version is %r, expected 2018-07-17" % version)
        if not action:
            raise TCError("MissingParameter", "The request is missing a required parameter `Action`.")
    except TCError as e:
        st.record_rejection("vod-tencent", action, 200, e.code, e.reason)
        return h.send_json(200, {"Response": {"Error": {"Code": e.code, "Message": e.message}, "RequestId": rid}})
    if apply_kind_fault(h, "vod-tencent", action):
        return
    fn = TENCENT_ACTIONS.get(action)
    try:
        if not fn:
            raise TCError("InvalidAction", "The action `%s` is not supported (emulator)." % action)
        resp = fn(h, params)
    except TCError as e:
        st.record_call("vod-tencent", action, params, len(body), status=200, error=e.code)
        return h.send_json(200, {"Response": {"Error": {"Code": e.code, "Message": e.message}, "RequestId": rid}})
    st.record_call("vod-tencent", action, params, len(body), auth=getattr(h, "_auth_kind", None))
    resp["RequestId"] = rid
    return h.send_json(200, {"Response": resp})


def check_skew(ts, limit, what):
    try:
        t = int(ts)
    except (TypeError, ValueError):
        raise TCError("InvalidParameter", "invalid %s" % what, "bad %s %r" % (what, ts))
    skew = int(time.time()) - t
    if abs(skew) > limit:
        raise TCError("AuthFailure.SignatureExpire", "Signature expired. Timestamp and server time cannot differ "
                      "by more than 5 minutes.", "stale timestamp: skew %ds (%s=%s, limit %ds)" % (skew, what, ts, limit))
    return t


def tc3_verify(h, auth, body):
    m = re.match(r"^TC3-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-fA-F]+)\s*$",
                 auth)
    if not m:
        raise TCError("AuthFailure.InvalidAuthorization", "Authorization header is malformed.",
                      "malformed Authorization header %r" % auth)
    cred, signed, sig = m.groups()
    cp = cred.split("/")
    if len(cp) != 4 or cp[3] != "tc3_request":
        raise TCError("AuthFailure.InvalidAuthorization", "Credential is malformed.",
                      "Credential %r is not SecretId/date/service/tc3_request" % cred)
    sid, date, service = cp[0], cp[1], cp[2]
    secret = STATE.tencent_secrets.get(sid)
    if secret is None:
        raise TCError("AuthFailure.SecretIdNotFound", "The SecretId is not found.", "unknown SecretId %r" % sid)
    ts = h.headers.get("X-TC-Timestamp")
    if ts is None:
        raise TCError("MissingParameter", "The request is missing X-TC-Timestamp.", "missing X-TC-Timestamp")
    t = check_skew(ts, TENCENT_SKEW, "X-TC-Timestamp")
    want_date = time.strftime("%Y-%m-%d", time.gmtime(t))
    if date != want_date:
        raise TCError("AuthFailure.SignatureFailure", "The provided credentials could not be validated.",
                      "credential scope date %s differs from the UTC date %s of X-TC-Timestamp %s" % (date, want_date, ts))
    if service != "vod":
        raise TCError("AuthFailure.SignatureFailure", "The provided credentials could not be validated.",
                      "credential scope service is %r, expected 'vod'" % service)
    names = signed.split(";")
    if "host" not in names or "content-type" not in names:
        raise TCError("AuthFailure.SignatureFailure", "The provided credentials could not be validated.",
                      "SignedHeaders %r must include content-type and host" % signed)
    payload_hash = S.sha256_hex(body)
    if (h.headers.get("X-TC-Content-SHA256") or "") == "UNSIGNED-PAYLOAD":
        payload_hash = "UNSIGNED-PAYLOAD"
    query = h.raw_query if h.command == "GET" else ""
    # Variants accepted (UNCONFIRMED in the spec): header value as received, or lower-cased (x-tc-action).
    base_vals = []
    for n in names:
        v = h.headers.get(n)
        if v is None:
            raise TCError("AuthFailure.SignatureFailure", "The provided credentials could not be validated.",
                          "signed header %r is missing from the request" % n)
        base_vals.append((n, v.strip()))
    variants = [base_vals, [(n, v.lower() if n.startswith("x-tc-") else v) for n, v in base_vals]]
    queries = [query]
    if h.command == "GET" and query:
        qp = urllib.parse.parse_qsl(query, keep_blank_values=True)
        queries.append("&".join("%s=%s" % (S.rfc3986(k), S.rfc3986(v)) for k, v in sorted(qp)))
    first = None
    for vals in variants:
        for q in queries:
            cr = S.tc3_canonical_request(h.command, "/", q, vals, signed, payload_hash)
            sts = S.tc3_string_to_sign(ts, "%s/%s/tc3_request" % (date, service), cr)
            exp = S.tc3_signature(secret, date, service, sts)
            if first is None:
                first = (cr, sts, exp)
            if hmac_eq(exp, sig.lower()):
                return
    cr, sts, exp = first
    raise TCError("AuthFailure.SignatureFailure", "The provided credentials could not be validated. "
                  "Please check your signature is correct.",
                  "signature mismatch: got %s expected %s; expected canonical request %r; expected string-to-sign %r"
                  % (sig, exp, cr, sts))


def hmac_eq(a, b):
    import hmac as _h
    return _h.compare_digest(str(a), str(b))


def tencent_v1_verify(h, form):
    sid = form.get("SecretId")
    secret = STATE.tencent_secrets.get(sid)
    if secret is None:
        raise TCError("AuthFailure.SecretIdNotFound", "The SecretId is not found.", "unknown SecretId %r" % sid)
    for req in ("Timestamp", "Nonce"):
        if form.get(req) in (None, ""):
            raise TCError("MissingParameter", "The request is missing a required parameter `%s`." % req,
                          "v1 signature: missing %s" % req)
    check_skew(form.get("Timestamp"), TENCENT_SKEW, "Timestamp")
    method = form.get("SignatureMethod") or "HmacSHA1"
    if method not in ("HmacSHA1", "HmacSHA256"):
        raise TCError("AuthFailure.SignatureFailure", "Unsupported SignatureMethod.",
                      "SignatureMethod %r" % method)
    path = h.raw_path or "/"
    sts = S.tencent_v1_string_to_sign(h.command, h.host_full, path, form)
    exp = S.tencent_v1_signature(secret, sts, method)
    if hmac_eq(exp, form.get("Signature", "")):
        return
    if h.host_full != h.host:
        sts2 = S.tencent_v1_string_to_sign(h.command, h.host, path, form)
        if hmac_eq(S.tencent_v1_signature(secret, sts2, method), form.get("Signature", "")):
            return
    raise TCError("AuthFailure.SignatureFailure", "The provided credentials could not be validated. "
                  "Please check your signature is correct.",
                  "signature mismatch (v1 %s): got %s expected %s; expected string-to-sign %r"
                  % (method, form.get("Signature"), exp, sts))


def tc_apply_upload(h, p):
    app = tc_app(p)
    mt = p.get("MediaType")
    if not mt:
        raise TCError("MissingParameter", "The request is missing a required parameter `MediaType`.")
    if not re.match(r"^[A-Za-z0-9]{1,10}$", str(mt)):
        raise TCError("InvalidParameterValue.MediaType", "Invalid MediaType.")
    sc = p.get("SourceContext") or ""
    if len(sc) > 250:
        raise TCError("InvalidParameterValue.SourceContext", "SourceContext exceeds 250 characters.")
    region = p.get("StorageRegion") or DEFAULT_TENCENT_REGION
    bucket = DEFAULT_TENCENT_BUCKET
    d = rand_hex(8)
    media_path = "/%s/%s/%s.%s" % (rand_hex(8), d, rand_hex(16), str(mt).lower())
    keys = [media_path[1:]]
    resp = {"StorageBucket": bucket, "StorageRegion": region, "MediaStoragePath": media_path}
    cover_path = None
    if p.get("CoverType"):
        cover_path = "/%s/%s/cover.%s" % (media_path.split("/")[1], d, str(p["CoverType"]).lower())
        keys.append(cover_path[1:])
        resp["CoverStoragePath"] = cover_path
    cred = STATE.issue_cred("tencent", bucket, keys)
    raw = os.urandom(48)
    while b"+" not in base64.b64encode(raw) or b"/" not in base64.b64encode(raw):
        raw = os.urandom(48)
    vsk = base64.b64encode(raw).decode()
    with STATE.lock:
        STATE.tc_sessions[vsk] = {"params": p, "bucket": bucket, "region": region, "media_path": media_path,
                                  "cover_path": cover_path, "file_id": None, "t": time.time(), "app": app}
    resp["VodSessionKey"] = vsk
    resp["TempCertificate"] = {"SecretId": cred["ak"], "SecretKey": cred["secret"], "Token": cred["token"],
                               "ExpiredTime": int(cred["expires"])}
    return resp


def tc_commit_upload(h, p):
    app = tc_app(p)
    vsk = p.get("VodSessionKey")
    if not vsk:
        raise TCError("MissingParameter", "The request is missing a required parameter `VodSessionKey`.")
    with STATE.lock:
        s = STATE.tc_sessions.get(vsk)
        # A session key belongs to the application that issued it.
        if not s or s.get("app") != app:
            raise TCError("InvalidParameterValue.VodSessionKey", "Invalid VodSessionKey.")
        if s["file_id"]:
            m = STATE.media[s["file_id"]]
            return {"FileId": m["file_id"], "MediaUrl": m["media_url"], "CoverUrl": m.get("cover_url", "")}
        o = STATE.objects.get((s["bucket"], s["media_path"][1:]))
        if not o:
            raise TCError("ResourceNotFound", "The media file was not uploaded (no object at %s)." % s["media_path"])
        ap = s["params"]
        fid = str(random.randint(10 ** 17, 10 ** 19 - 1))
        base = "http://1250000000.vod2.myqcloud.com/%s/%s" % (rand_hex(8), fid)
        mt = str(ap.get("MediaType")).lower()
        m = {"provider": "tencent", "id": fid, "file_id": fid, "name": ap.get("MediaName") or "media",
             "type": mt, "media_url": "%s/%s.%s" % (base, rand_hex(12), mt), "size": o["size"],
             "md5": o["md5"] or "", "storage_region": s["region"], "create_time": iso(),
             "class_id": int(ap.get("ClassId") or 0), "source_context": ap.get("SourceContext") or "",
             "session_context": ap.get("SessionContext") or "", "procedure": ap.get("Procedure") or "",
             "expire_time": ap.get("ExpireTime"), "state": "Normal", "bucket": s["bucket"],
             "key": s["media_path"][1:], "sub_app_id": app}
        # ApplyUpload's image types (https://www.tencentcloud.com/document/product/266/2846) make an image.
        m["category"] = "Image" if mt in TC_IMAGE_TYPES else "Video"
        if s["cover_path"] and (s["bucket"], s["cover_path"][1:]) in STATE.objects:
            m["cover_url"] = "%s/cover.%s" % (base, s["cover_path"].rsplit(".", 1)[-1])
        if m["procedure"]:
            m["procedure_task_id"] = "1250000000-Procedure-%st1" % rand_hex(24)
            m["state"] = "Processing"
        STATE.media[fid] = m
        s["file_id"] = fid
    spawn(tc_events_for, m)
    return {"FileId": fid, "MediaUrl": m["media_url"], "CoverUrl": m.get("cover_url", "")}


def tc_pull_events(h, p):
    app = tc_app(p)
    deadline = time.time() + 5
    with STATE.cond:
        while True:
            now = time.time()
            avail = [e for e in STATE.tc_events if e["lease_until"] <= now and e.get("app") == app]
            if avail or now >= deadline:
                break
            STATE.cond.wait(timeout=deadline - now)
        out = []
        for e in avail[:16]:
            e["lease_until"] = now + 30
            e["handle"] = "EventHandle" + rand_hex(24)
            ev = dict(e["body"])
            ev["EventHandle"] = e["handle"]
            out.append(ev)
    if not out:
        return {"EventSet": []}
    return {"EventSet": out}


def tc_confirm_events(h, p):
    app = tc_app(p)
    handles = p.get("EventHandles") or []
    if isinstance(handles, str):
        handles = [handles]
    if not handles:
        raise TCError("MissingParameter", "The request is missing a required parameter `EventHandles`.")
    if len(handles) > 16:
        raise TCError("InvalidParameterValue.EventHandles", "At most 16 EventHandles.")
    now = time.time()
    with STATE.lock:
        by = {e["handle"]: e for e in STATE.tc_events if e.get("app") == app}
        bad = [x for x in handles if x not in by or by[x]["lease_until"] < now]
        if bad:
            raise TCError("InvalidParameterValue", "EventHandle expired or invalid: %s" % ",".join(bad))
        STATE.tc_events = [e for e in STATE.tc_events if e["handle"] not in handles]
    return {}


def tc_describe_media_infos(h, p):
    app = tc_app(p)
    ids = p.get("FileIds") or []
    if isinstance(ids, str):
        ids = [ids]
    out, missing = [], []
    with STATE.lock:
        for fid in ids:
            m = STATE.media.get(fid)
            # A FileId is known only in its own application.
            if not m or m.get("provider") != "tencent" or m.get("sub_app_id") != app:
                missing.append(fid)
                continue
            info = {"FileId": fid, "BasicInfo": tc_media_basic(m), "MetaData": tc_meta(m)}
            if m.get("transcode"):
                info["TranscodeInfo"] = {"TranscodeSet": [r["TranscodeTask"]["Output"] for r in m["transcode"]
                                                          if r["TranscodeTask"].get("Output")]}
            else:
                info["TranscodeInfo"] = None
            out.append(info)
    return {"MediaInfoSet": out, "NotExistFileIdSet": missing}


# DescribeTaskDetail (https://cloud.tencent.com/document/api/266/33431): TaskType, Status (WAITING,
# PROCESSING, FINISH, ABORTED), times, and the detail in the member named for the type (ProcedureTask);
# every other type's member is null, as in the API reference's example. Only task flows started by
# an upload's Procedure are known here; another id is InvalidParameterValue.TaskId (the code the SDK's
# errors.go gives for a task that does not exist).
def tc_pull_task_detail(pt):
    """DescribeTaskDetail of a pull: TaskType PullUpload, the detail in PullUploadTask."""
    out = {"TaskType": "PullUpload", "Status": pt["Status"], "CreateTime": pt["_create_time"],
           "BeginProcessTime": pt["_create_time"], "FinishTime": iso() if pt["Status"] == "FINISH" else "",
           "PullUploadTask": json.loads(json.dumps(tc_pull_task_public(pt)))}
    for other in ("EditMediaTask", "WechatPublishTask", "ComposeMediaTask", "SplitMediaTask",
                  "ProcedureTask", "TranscodeTask", "ReviewAudioVideoTask"):
        out[other] = None
    return out


def tc_describe_task_detail(h, p):
    app = tc_app(p)
    tid = p.get("TaskId")
    if not tid:
        raise TCError("MissingParameter", "The request is missing a required parameter `TaskId`.")
    with STATE.lock:
        pt = STATE.tc_pull_tasks.get(tid)
        if pt is not None and pt.get("_app") == app:
            return tc_pull_task_detail(pt)
        m = next((x for x in STATE.media.values()
                  if x.get("provider") == "tencent" and x.get("procedure_task_id") == tid
                  and x.get("sub_app_id") == app), None)
        if not m:
            raise TCError("InvalidParameterValue.TaskId", "TaskId does not exist.")
        task = json.loads(json.dumps(tc_procedure_task(m)))
        status = m.get("procedure_status") or "WAITING"
        out = {"TaskType": "Procedure", "Status": status, "CreateTime": m["create_time"],
               "BeginProcessTime": m.get("procedure_begin_time", ""),
               "FinishTime": m.get("procedure_finish_time", ""), "ProcedureTask": task}
    for other in ("EditMediaTask", "WechatPublishTask", "ComposeMediaTask", "SplitMediaTask",
                  "PullUploadTask", "TranscodeTask", "ReviewAudioVideoTask"):
        out[other] = None
    return out


TC_IMAGE_TYPES = ("jpg", "jpeg", "png", "gif", "bmp", "tiff", "tif", "ai", "cdr", "eps", "heif")


# PullUpload (https://cloud.tencent.com/document/api/266/35575; tencentcloud-sdk-go vod/v20180717
# PullUploadRequestParams, PullUploadResponseParams): the platform fetches MediaUrl itself and answers
# with the TaskId at once. The pull runs in the background: its PullUploadTask (what DescribeTaskDetail
# and the PullComplete event carry; models.go PullUploadTask) goes PROCESSING -> FINISH, with ErrCode 0
# and the FileId, or a non-zero ErrCode and Message and no media. ErrCode values: 40000 invalid input,
# 60000 source file error, 70000 internal error (PullUploadTask.ErrCode); a URL that cannot be fetched
# is a source file error here, an emulator choice (the message is not documented).
def tc_pull_upload(h, p):
    app = tc_app(p)
    url = p.get("MediaUrl")
    if not url:
        raise TCError("MissingParameter", "The request is missing a required parameter `MediaUrl`.")
    if not re.match(r"^https?://", str(url)):
        raise TCError("InvalidParameterValue.MediaUrl", "Invalid MediaUrl.")
    mt = p.get("MediaType") or urllib.parse.urlsplit(url).path.rsplit(".", 1)[-1]
    if not re.match(r"^[A-Za-z0-9]{1,10}$", str(mt or "")):
        raise TCError("FailedOperation.MediaType", "Unsupported media type.")
    if len(p.get("SourceContext") or "") > 250:
        raise TCError("InvalidParameterValue.SourceContext", "SourceContext exceeds 250 characters.")
    if len(p.get("SessionContext") or "") > 1000:
        raise TCError("InvalidParameterValue.SessionContext", "SessionContext exceeds 1000 characters.")
    prio = p.get("TasksPriority")
    if prio is not None and (not isinstance(prio, int) or not -10 <= prio <= 10):
        raise TCError("InvalidParameterValue.TasksPriority", "TasksPriority must be -10 to 10.")
    tid = "1250000000-Pull-%s" % rand_hex(32)
    task = {"TaskId": tid, "Status": "PROCESSING", "ErrCode": 0, "Message": "", "FileId": "",
            "MediaBasicInfo": None, "MetaData": None, "FileUrl": "", "ProcedureTaskId": "",
            "ReviewAudioVideoTaskId": "", "SessionContext": p.get("SessionContext") or "", "SessionId": "",
            "Progress": 0, "_create_time": iso(), "_params": p, "_app": app}
    fault = STATE.take_pull_fault() or {}
    with STATE.lock:
        STATE.tc_pull_tasks[tid] = task
        if fault.get("mode") == "stall":
            STATE.pull_stalled[tid] = threading.Event()
    if fault.get("mode") == "sync":
        tc_pull_job(tid, str(mt).lower())
    else:
        spawn(tc_pull_job, tid, str(mt).lower())
    return {"TaskId": tid}


def tc_pull_task_public(task):
    return {k: v for k, v in task.items() if not k.startswith("_")}


def tc_pull_complete(task):
    """The PullComplete event of a finished pull: v3 (PullCompleteEvent, a PullUploadTask;
    https://cloud.tencent.com/document/product/266/7831) or the legacy 4.0 format (data.status 0 on
    success, vodTaskId, fileId, fileUrl, transcodeTaskId; the archived "URL 拉取视频上传完成" page)."""
    if STATE.config.get("tencent_legacy"):
        return {"version": "4.0", "eventType": "PullComplete", "data": {
            "status": task["ErrCode"], "message": task["Message"] if task["ErrCode"] else "",
            "vodTaskId": task["TaskId"], "fileId": task["FileId"], "fileUrl": task["FileUrl"],
            "transcodeTaskId": task["ProcedureTaskId"]}}
    return {"EventType": "PullComplete", "PullCompleteEvent": tc_pull_task_public(task)}


def tc_pull_fetch(url, path):
    h, size = hashlib.md5(), 0
    req = urllib.request.Request(url, headers={"User-Agent": "vodhook-emulator"})
    with urllib.request.urlopen(req, timeout=30, context=_ssl_unverified) as r, open(path, "wb") as f:
        while True:
            b = r.read(CHUNK)
            if not b:
                break
            h.update(b)
            f.write(b)
            size += len(b)
    return h.hexdigest(), size


def tc_pull_job(tid, mt):
    with STATE.lock:
        task = STATE.tc_pull_tasks.get(tid)
        stall = STATE.pull_stalled.get(tid)
    if task is None:
        return
    if stall is not None:
        stall.wait()
        with STATE.lock:
            if STATE.tc_pull_tasks.get(tid) is not task:  # reset meanwhile
                return
    p = task["_params"]
    url = p["MediaUrl"]
    path = STATE.new_file()
    try:
        md5hex, size = tc_pull_fetch(url, path)
    except Exception as e:  # noqa: BLE001
        try:
            os.unlink(path)
        except OSError:
            pass
        STATE.record_call("vod-tencent", "PullUploadDownload", {"url": url, "error": str(e)}, 0, status=None)
        with STATE.lock:
            task.update({"Status": "FINISH", "ErrCode": 60000, "Progress": 0,
                         "Message": "fail to download the media from the url (emulator)"})
        batch = EventBatch("tencent", app=task.get("_app"))
        batch.emit(tc_pull_complete(task))
        batch.close()
        return
    region = p.get("StorageRegion") or DEFAULT_TENCENT_REGION
    key = "%s/%s/%s.%s" % (rand_hex(8), rand_hex(8), rand_hex(16), mt)
    STATE.put_object("cos", DEFAULT_TENCENT_BUCKET, key, path, size, md5hex, '"%s"' % md5hex)
    STATE.record_call("vod-tencent", "PullUploadDownload", {"url": url}, size)
    fid = str(random.randint(10 ** 17, 10 ** 19 - 1))
    base = "http://1250000000.vod2.myqcloud.com/%s/%s" % (rand_hex(8), fid)
    m = {"provider": "tencent", "id": fid, "file_id": fid, "name": p.get("MediaName") or url.rsplit("/", 1)[-1],
         "type": mt, "media_url": "%s/%s.%s" % (base, rand_hex(12), mt), "size": size, "md5": md5hex,
         "storage_region": region, "create_time": iso(), "class_id": int(p.get("ClassId") or 0),
         "source_context": p.get("SourceContext") or "", "session_context": p.get("SessionContext") or "",
         "procedure": p.get("Procedure") or "", "expire_time": p.get("ExpireTime"), "state": "Normal",
         "bucket": DEFAULT_TENCENT_BUCKET, "key": key, "cover_url": p.get("CoverUrl") or "",
         "pull_task_id": tid, "tasks_priority": p.get("TasksPriority"), "sub_app_id": task.get("_app")}
    if m["procedure"]:
        m["procedure_task_id"] = "1250000000-Procedure-%st1" % rand_hex(24)
        m["state"] = "Processing"
    with STATE.lock:
        STATE.media[fid] = m
        task.update({"Status": "FINISH", "ErrCode": 0, "Message": "SUCCESS", "FileId": fid,
                     "MediaBasicInfo": tc_media_basic(m), "MetaData": tc_meta(m), "FileUrl": m["media_url"],
                     "ProcedureTaskId": m.get("procedure_task_id", ""), "Progress": 100})
    tc_events_for(m, first=tc_pull_complete(task))
# DeleteMedia (https://cloud.tencent.com/document/api/266/31764): FileId (required), SubAppId, DeleteParts
# (absent or empty: the media and everything made from it). The answer is the RequestId only; the media is
# gone at once (DescribeMediaInfos lists it in NotExistFileIdSet) and a FileDeleted event follows: v3
# FileDeleteEvent{FileIdSet, FileDeleteResultInfo[{FileId, DeleteParts}]} (FileDeleteTask in
# tencentcloud-sdk-go vod/v20180717/models.go), legacy data{status, message, fileInfo[{fileId}]} (the
# "视频删除完成" event page). An unknown FileId is ResourceNotFound.FileNotExist (DeleteMedia's error codes).
# DeleteParts deletes parts only: no event, the media stays.
def tc_delete_media(h, p):
    app = tc_app(p)
    fid = p.get("FileId")
    if not fid:
        raise TCError("MissingParameter", "The request is missing a required parameter `FileId`.")
    parts = p.get("DeleteParts") or []
    with STATE.lock:
        m = STATE.media.get(str(fid))
        if not m or m.get("provider") != "tencent" or m.get("sub_app_id") != app:
            raise TCError("ResourceNotFound.FileNotExist", "The file does not exist.")
        if not parts:
            del STATE.media[str(fid)]
    if not parts:
        spawn(tc_delete_events, str(fid), app)
    return {}


def tc_delete_events(fid, app=None):
    batch = EventBatch("tencent", app=app)
    if STATE.config.get("tencent_legacy"):
        batch.emit({"version": "4.0", "eventType": "FileDeleted",
                    "data": {"status": 0, "message": "", "fileInfo": [{"fileId": fid}]}})
    else:
        batch.emit({"EventType": "FileDeleted", "FileDeleteEvent": {
            "FileIdSet": [fid], "FileDeleteResultInfo": [{"FileId": fid, "DeleteParts": []}]}})
    batch.close()


TENCENT_ACTIONS = {"ApplyUpload": tc_apply_upload, "CommitUpload": tc_commit_upload,
                   "PullUpload": tc_pull_upload,
                   "PullEvents": tc_pull_events, "ConfirmEvents": tc_confirm_events,
                   "DescribeMediaInfos": tc_describe_media_infos,
                   "DescribeTaskDetail": tc_describe_task_detail,
                   "DeleteMedia": tc_delete_media}


# ============================================================================================
# Storage common
# ============================================================================================

def check_temp_cred(provider, ak, token, bucket, key, bucket_level=False):
    """Returns (cred, None) or raises Reject with the platform-specific code."""
    st = STATE
    with st.lock:
        c = st.creds.get(ak)
    if provider == "tencent":
        if c is None:
            if ak in st.tencent_secrets:
                return {"secret": st.tencent_secrets[ak], "permanent": True}
            raise Reject(403, "InvalidAccessKeyId", "The access key Id format you provided is invalid.",
                         "unknown q-ak %r (not issued by ApplyUpload)" % ak)
        if token is None:
            raise Reject(403, "InvalidAccessKeyId", "The x-cos-security-token is required for a temporary key.",
                         "security token missing (x-cos-security-token header absent)")
        if token != c["token"]:
            raise Reject(403, "InvalidAccessKeyId", "The security token is invalid.",
                         "security token mismatch: x-cos-security-token does not match the token issued with %s" % ak)
        if time.time() > c["expires"]:
            raise Reject(400, "ExpiredToken", "The provided token has expired.",
                         "temporary credential expired %ds ago%s" % (time.time() - c["expires"],
                                                                     " (fault)" if c.get("expired_by_fault") else ""))
    else:
        if c is None:
            if ak in st.alibaba_keys:
                return {"secret": st.alibaba_keys[ak], "permanent": True}
            raise Reject(403, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.",
                         "unknown AccessKeyId %r" % ak)
        if token is None:
            raise Reject(403, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.",
                         "security token missing (no x-oss-security-token) for STS AccessKeyId")
        if token != c["token"]:
            raise Reject(403, "InvalidSecurityToken", "The security token you provided is invalid.",
                         "security token mismatch: x-oss-security-token does not match the token issued with %s" % ak)
        if time.time() > c["expires"]:
            raise Reject(403, "SecurityTokenExpired", "The security token you provided has expired.",
                         "temporary credential expired %ds ago%s" % (time.time() - c["expires"],
                                                                     " (fault)" if c.get("expired_by_fault") else ""))
    if c["bucket"] != bucket:
        raise Reject(403, "AccessDenied", "Access Denied.", "credential is for bucket %s, not %s" % (c["bucket"], bucket))
    if not bucket_level and key not in c["keys"] and not (c["prefix"] and key.startswith(c["prefix"])):
        raise Reject(403, "AccessDenied", "Access Denied.",
                     "credential does not allow key %r (allowed: %s)" % (key, sorted(c["keys"])))
    return c


# --- WAN-like mode --------------------------------------------------------------------------
# A path across a wide-area network: each request is answered request_delay_ms late (the round
# trips a request pays), each connection's body is read at rate_limit_bps at most (a TCP window
# over that round trip), and above slowdown_above UploadPart requests at once the store throttles.
# COS answers 503 SlowDown "Please reduce your request rate." (COS error codes,
# https://cloud.tencent.com/document/product/436/7730); OSS answers 503 with a throttling code,
# TotalQpsLimitExceeded among them (https://www.alibabacloud.com/help/en/oss/support/http-status-code-503).

def wan_delay():
    ms = int(STATE.config.get("request_delay_ms") or 0)
    if ms > 0:
        time.sleep(ms / 1000.0)


def wan_part_enter(h, service, kind):
    """Count an UploadPart in flight; True when it was answered 503 (throttled) instead."""
    if kind != "UploadPart":
        return False
    st = STATE
    with st.lock:
        cap = int(st.config.get("slowdown_above") or 0)
        if cap > 0 and st.parts_active >= cap:
            st.slowdowns += 1
            throttled = True
        else:
            st.parts_active += 1
            st.parts_active_max = max(st.parts_active_max, st.parts_active)
            REQUEST.concurrent = st.parts_active
            throttled = False
    if not throttled:
        return False
    st.record_call(service, kind, {"fault": True}, 0, status=503, fault="slowdown")
    h.finish_reject()
    if service == "cos":
        storage_error(h, service, 503, "SlowDown", "Please reduce your request rate.")
    else:
        storage_error(h, service, 503, "TotalQpsLimitExceeded", "Max total qps limit is exceeded")
    return True


def wan_part_leave(kind):
    if kind != "UploadPart" or not getattr(REQUEST, "concurrent", None):
        return
    with STATE.lock:
        STATE.parts_active -= 1
    REQUEST.concurrent = None


def storage_error(h, service, status, code, message, extra=None):
    rid = uuid.uuid4().hex
    d = {"Code": code, "Message": message}
    if service == "cos":
        d.update({"Resource": h.host + h.raw_path, "RequestId": rid, "TraceId": rid})
        hdr = {"x-cos-request-id": rid}
    else:
        d.update({"RequestId": rid, "HostId": h.host})
        hdr = {"x-oss-request-id": rid}
    d.update(extra or {})
    body = '<?xml version="1.0" encoding="UTF-8"?>\n' + dict_to_xml("Error", d)
    h.send_bytes(status, body.encode("utf-8"), "application/xml", hdr)


def storage_kind(method, q, key):
    if not key:
        if method == "GET" and "uploads" in q:
            return "ListMultipartUploads"
        return "Bucket" + method.title()
    if method == "PUT":
        if "partNumber" in q and "uploadId" in q:
            return "UploadPart"
        return "PutObject"
    if method == "POST":
        if "uploads" in q:
            return "InitiateMultipartUpload"
        if "uploadId" in q:
            return "CompleteMultipartUpload"
        return "PostObject"
    if method == "GET":
        if "uploadId" in q:
            return "ListParts"
        return "GetObject"
    if method == "HEAD":
        return "HeadObject"
    if method == "DELETE":
        if "uploadId" in q:
            return "AbortMultipartUpload"
        return "DeleteObject"
    return method


def storage_ops(h, service, bucket, key, kind, q, cred):
    """Perform the storage operation (after authentication)."""
    st = STATE
    auth = getattr(h, "_auth_kind", None)  # recorded with the call (OSS: "OSS" or "OSS4-HMAC-SHA256")
    quote = '"'
    upper = service == "oss"

    def fmt_etag(md5hex):
        return quote + (md5hex.upper() if upper else md5hex) + quote

    rid_hdr = "x-cos-request-id" if service == "cos" else "x-oss-request-id"
    rid = uuid.uuid4().hex

    def crc_hdr(crc):
        """The CRC-64 of what was stored, as COS and OSS report it (unless turned off)."""
        if not st.config.get("crc64_headers", True):
            return {}
        return {("x-cos-hash-crc64ecma" if service == "cos" else "x-oss-hash-crc64ecma"): str(crc)}

    def stored(br, path, md5hex):
        """MD5 and CRC-64 of the stored body: the 'corrupt' fault stores other bytes than were received."""
        if REQUEST.corrupt:
            return corrupt_file(path)
        return md5hex, br.crc64

    if kind == "PutObject":
        br = h.body_reader(rate=int(st.config.get("rate_limit_bps") or 0))
        path = st.new_file()
        try:
            size, md5hex = br.to_file(path)
        except BaseException:
            try:
                os.unlink(path)
            except OSError:
                pass
            raise
        cmd5 = h.headers.get("Content-MD5")
        if cmd5 and base64.b64encode(binascii.unhexlify(md5hex)).decode() != cmd5.strip():
            os.unlink(path)
            raise Reject(400, "InvalidDigest" if service == "oss" else "BadDigest",
                         "The Content-MD5 you specified did not match what we received.",
                         "Content-MD5 %s does not match body md5 %s" % (cmd5, md5hex))
        md5hex, crc = stored(br, path, md5hex)
        etag = fmt_etag(md5hex)
        st.put_object(service, bucket, key, path, size, md5hex, etag)
        st.record_call(service, kind, {"bucket": bucket, "key": key}, size, auth=auth)
        h.send_bytes(200, b"", "text/plain", dict({"ETag": etag, rid_hdr: rid}, **crc_hdr(crc)))
        if service == "oss":
            ali_object_completed(bucket, key, size, md5hex)
        return
    if kind == "InitiateMultipartUpload":
        h.body_reader().drain()
        uid = (rand_hex(16).upper() if service == "oss" else (rand_hex(40) + str(int(time.time()))))
        with st.lock:
            st.uploads[uid] = {"service": service, "bucket": bucket, "key": key, "parts": {}, "t": time.time(),
                               "initiated": iso()}
        st.record_call(service, kind, {"bucket": bucket, "key": key, "uploadId": uid}, 0, auth=auth)
        x = dict_to_xml("InitiateMultipartUploadResult", {"Bucket": bucket, "Key": key, "UploadId": uid})
        return h.send_bytes(200, ('<?xml version="1.0" encoding="UTF-8"?>\n' + x).encode(), "application/xml",
                            {rid_hdr: rid})
    if kind in ("UploadPart", "CompleteMultipartUpload", "ListParts", "AbortMultipartUpload"):
        uid = q.get("uploadId")
        with st.lock:
            up = st.uploads.get(uid)
        if not up or up["bucket"] != bucket or up["key"] != key:
            raise Reject(404, "NoSuchUpload", "The specified upload does not exist.",
                         "unknown uploadId %r for %s/%s" % (uid, bucket, key))
    if kind == "UploadPart":
        try:
            pn = int(q.get("partNumber"))
        except (TypeError, ValueError):
            pn = -1
        if not 1 <= pn <= 10000:
            raise Reject(400, "InvalidArgument", "Part number must be an integer between 1 and 10000.",
                         "bad partNumber %r" % q.get("partNumber"))
        br = h.body_reader(rate=int(st.config.get("rate_limit_bps") or 0))
        path = st.new_file("parts")
        try:
            size, md5hex = br.to_file(path)
        except BaseException:
            try:
                os.unlink(path)
            except OSError:
                pass
            raise
        cmd5 = h.headers.get("Content-MD5")
        if cmd5 and base64.b64encode(binascii.unhexlify(md5hex)).decode() != cmd5.strip():
            os.unlink(path)
            raise Reject(400, "InvalidDigest" if service == "oss" else "BadDigest",
                         "The Content-MD5 you specified did not match what we received.",
                         "Content-MD5 %s does not match body md5 %s" % (cmd5, md5hex))
        md5hex, crc = stored(br, path, md5hex)
        etag = fmt_etag(md5hex)
        with st.lock:
            old = up["parts"].get(pn)
            up["parts"][pn] = {"size": size, "md5": md5hex, "etag": etag, "path": path, "t": time.time()}
        if old:
            try:
                os.unlink(old["path"])
            except OSError:
                pass
        st.record_call(service, kind, {"bucket": bucket, "key": key, "uploadId": uid, "partNumber": pn}, size, auth=auth)
        return h.send_bytes(200, b"", "text/plain", dict({"ETag": etag, rid_hdr: rid}, **crc_hdr(crc)))
    if kind == "ListParts":
        with st.lock:
            parts = sorted(up["parts"].items())
        try:
            marker = int(q.get("part-number-marker") or 0)
        except ValueError:
            marker = 0
        try:
            mx = int(q.get("max-parts") or 1000)
        except ValueError:
            mx = 1000
        sel = [(n, p) for n, p in parts if n > marker]
        trunc = len(sel) > mx
        sel = sel[:mx]
        d = {"Bucket": bucket, "Key": key, "UploadId": uid, "PartNumberMarker": marker,
             "NextPartNumberMarker": sel[-1][0] if sel else marker, "MaxParts": mx,
             "IsTruncated": "true" if trunc else "false", "StorageClass": "Standard",
             "Part": [{"PartNumber": n, "LastModified": iso(p["t"]), "ETag": p["etag"], "Size": p["size"]}
                      for n, p in sel]}
        st.record_call(service, kind, {"bucket": bucket, "key": key, "uploadId": uid}, 0, auth=auth)
        return h.send_bytes(200, ('<?xml version="1.0" encoding="UTF-8"?>\n' + dict_to_xml("ListPartsResult", d)).encode(),
                            "application/xml", {rid_hdr: rid})
    if kind == "AbortMultipartUpload":
        with st.lock:
            st.uploads.pop(uid, None)
        for p in up["parts"].values():
            try:
                os.unlink(p["path"])
            except OSError:
                pass
        st.record_call(service, kind, {"bucket": bucket, "key": key, "uploadId": uid}, 0, auth=auth)
        return h.send_bytes(204, b"", "text/plain", {rid_hdr: rid})
    if kind == "CompleteMultipartUpload":
        body = h.body_reader().read_all()
        return complete_multipart(h, service, bucket, key, uid, up, body, rid_hdr, rid, fmt_etag, crc_hdr)
    if kind == "ListMultipartUploads":
        prefix = q.get("prefix") or ""
        with st.lock:
            ups = [(k, u) for k, u in st.uploads.items() if u["bucket"] == bucket and u["key"].startswith(prefix)]
        d = {"Bucket": bucket, "Prefix": prefix, "KeyMarker": q.get("key-marker", ""),
             "UploadIdMarker": q.get("upload-id-marker", ""), "MaxUploads": 1000, "IsTruncated": "false",
             "Upload": [{"Key": u["key"], "UploadId": k, "Initiated": u["initiated"], "StorageClass": "Standard"}
                        for k, u in ups]}
        st.record_call(service, kind, {"bucket": bucket, "prefix": prefix}, 0, auth=auth)
        return h.send_bytes(200, ('<?xml version="1.0" encoding="UTF-8"?>\n' +
                                  dict_to_xml("ListMultipartUploadsResult", d)).encode(), "application/xml", {rid_hdr: rid})
    if kind in ("GetObject", "HeadObject"):
        with st.lock:
            o = st.objects.get((bucket, key))
        if not o:
            raise Reject(404, "NoSuchKey", "The specified key does not exist.", "no object %s/%s" % (bucket, key))
        st.record_call(service, kind, {"bucket": bucket, "key": key}, 0, auth=auth)
        h.resp_sent = True
        h.send_response(200)
        h.send_header("Content-Type", "application/octet-stream")
        h.send_header("Content-Length", str(o["size"]))
        h.send_header("ETag", o["etag"])
        h.send_header(rid_hdr, rid)
        h.end_headers()
        if kind == "GetObject":
            with open(o["path"], "rb") as f:
                while True:
                    b = f.read(CHUNK)
                    if not b:
                        break
                    h.wfile.write(b)
        h.wfile.flush()
        return
    if kind == "DeleteObject":
        with st.lock:
            o = st.objects.pop((bucket, key), None)
        if o:
            try:
                os.unlink(o["path"])
            except OSError:
                pass
        st.record_call(service, kind, {"bucket": bucket, "key": key}, 0, auth=auth)
        return h.send_bytes(204, b"", "text/plain", {rid_hdr: rid})
    raise Reject(405, "MethodNotAllowed", "The specified method is not allowed (emulator).",
                 "unsupported storage operation %s" % kind)


def complete_multipart(h, service, bucket, key, uid, up, body, rid_hdr, rid, fmt_etag, crc_hdr):
    st = STATE
    with st.lock:
        have = dict(up["parts"])
    if service == "oss" and (h.headers.get("x-oss-complete-all") or "").lower() == "yes":
        listed = [(n, have[n]["etag"]) for n in sorted(have)]
    else:
        try:
            root = ET.fromstring(body)
        except ET.ParseError as e:
            raise Reject(400, "MalformedXML", "The XML you provided was not well-formed.",
                         "Complete body is not XML: %s" % e)
        if root.tag != "CompleteMultipartUpload":
            raise Reject(400, "MalformedXML", "The XML you provided was not well-formed.",
                         "root element is %r" % root.tag)
        listed = []
        for p in root.findall("Part"):
            pn, et = p.findtext("PartNumber"), p.findtext("ETag")
            if pn is None or et is None:
                raise Reject(400, "MalformedXML", "The XML you provided was not well-formed.",
                             "Part without PartNumber or ETag")
            try:
                listed.append((int(pn.strip()), et.strip()))
            except ValueError:
                raise Reject(400, "MalformedXML", "bad PartNumber", "bad PartNumber %r" % pn)
    if not listed:
        raise Reject(400, "MalformedXML", "You must specify at least one part.", "no parts listed")
    prev = 0
    for i, (pn, et) in enumerate(listed):
        if pn <= prev:
            raise Reject(400, "InvalidPartOrder", "The list of parts was not in ascending order.",
                         "part %d listed after part %d" % (pn, prev))
        if service == "cos" and pn != i + 1:
            raise Reject(400, "InvalidPart", "One or more of the specified parts could not be found.",
                         "parts not contiguous: part %d at position %d" % (pn, i + 1))
        prev = pn
        p = have.get(pn)
        if not p:
            raise Reject(400, "InvalidPart", "One or more of the specified parts could not be found.",
                         "part %d was never uploaded" % pn)
        norm = et.replace("&quot;", "").replace('"', "").strip().lower()
        if norm != p["md5"].lower():
            raise Reject(400, "InvalidPart", "One or more of the specified parts could not be found or the "
                         "specified entity tag might not have matched the part's entity tag.",
                         "ETag mismatch for part %d: got %s, stored %s" % (pn, et, p["etag"]))
    minp = COS_MIN_PART if service == "cos" else OSS_MIN_PART
    for pn, _ in listed[:-1]:
        if have[pn]["size"] < minp:
            raise Reject(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size.",
                         "part %d is %d bytes < minimum %d (not the last part)" % (pn, have[pn]["size"], minp))
    # The object's CRC-64 is in the headers, which COS sends before it merges: from the parts' bytes (with the
    # 'corrupt' fault, the object's first byte differs from what was sent).
    crc = crc64_of_files([have[pn]["path"] for pn, _ in listed], flip_first=REQUEST.corrupt)
    # COS answers 200 at once and streams whitespace while merging; emulate that.
    streaming = service == "cos"
    if streaming:
        h.resp_sent = True
        h.send_response(200)
        h.send_header("Content-Type", "application/xml")
        h.send_header("Transfer-Encoding", "chunked")
        h.send_header(rid_hdr, rid)
        for k, v in crc_hdr(crc).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(b"2\r\n \n\r\n")
        h.wfile.flush()
    path = st.new_file()
    total = 0
    with open(path, "wb") as out:
        for pn, _ in listed:
            with open(have[pn]["path"], "rb") as src:
                n = have[pn]["size"]
                off = 0
                while off < n:
                    try:
                        c = os.copy_file_range(src.fileno(), out.fileno(), n - off)
                    except (AttributeError, OSError):
                        c = 0
                    if c <= 0:
                        src.seek(off)
                        out.seek(total + off)
                        b = src.read(min(CHUNK * 8, n - off))
                        out.write(b)
                        c = len(b)
                    off += c
            total += n
    if REQUEST.corrupt:
        corrupt_file(path)
    md5s = hashlib.md5(b"".join(binascii.unhexlify(have[pn]["md5"]) for pn, _ in listed)).hexdigest()
    etag = '"%s-%d"' % (md5s.upper() if service == "oss" else md5s, len(listed))
    whole_md5 = None
    if len(listed) == 1 and not REQUEST.corrupt:
        whole_md5 = have[listed[0][0]]["md5"]
    st.put_object(service, bucket, key, path, total, whole_md5, etag)
    with st.lock:
        st.uploads.pop(uid, None)
    for p in up["parts"].values():
        try:
            os.unlink(p["path"])
        except OSError:
            pass
    st.record_call(service, "CompleteMultipartUpload", {"bucket": bucket, "key": key, "uploadId": uid,
                                                        "parts": len(listed)}, len(body),
                   auth=getattr(h, "_auth_kind", None))
    loc = "%s/%s" % (h.host, key)
    x = '<?xml version="1.0" encoding="UTF-8"?>\n' + dict_to_xml(
        "CompleteMultipartUploadResult", {"Location": loc, "Bucket": bucket, "Key": key, "ETag": etag})
    if streaming:
        b = x.encode()
        h.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(b), b))
        h.wfile.flush()
    else:
        h.send_bytes(200, x.encode(), "application/xml", dict({rid_hdr: rid}, **crc_hdr(crc)))
    if service == "oss":
        o = st.objects.get((bucket, key))
        ali_object_completed(bucket, key, total, st.object_md5(o) if o else None)


# ============================================================================================
# COS
# ============================================================================================

def cos_handler(h, bucket, region):
    st = STATE
    key = urllib.parse.unquote(h.raw_path[1:]) if h.raw_path.startswith("/") else urllib.parse.unquote(h.raw_path)
    qp = h.query_pairs()
    q = dict(qp)
    kind = storage_kind(h.command, q, key)
    h._auth_kind = None
    try:
        auth = h.headers.get("Authorization") or ""
        if not auth and "q-sign-algorithm" in q:
            auth = "&".join("%s=%s" % (k, v) for k, v in qp if k.startswith("q-"))
        if not auth:
            raise Reject(403, "AccessDenied", "Access Denied.", "missing Authorization")
        a = S.parse_cos_authorization(auth)
        for f in ("q-sign-algorithm", "q-ak", "q-sign-time", "q-key-time", "q-header-list", "q-url-param-list",
                  "q-signature"):
            if f not in a:
                raise Reject(403, "AccessDenied", "Access Denied.", "Authorization lacks %s" % f)
        if a["q-sign-algorithm"] != "sha1":
            raise Reject(403, "AccessDenied", "Access Denied.", "q-sign-algorithm %r is not sha1" % a["q-sign-algorithm"])
        token = h.headers.get("x-cos-security-token")
        if token is None and "x-cos-security-token" in q:
            token = q["x-cos-security-token"]
        cred = check_temp_cred("tencent", a["q-ak"], token, bucket, key, bucket_level=not key)
        try:
            s, e = [int(x) for x in a["q-sign-time"].split(";")]
        except ValueError:
            raise Reject(403, "AccessDenied", "Access Denied.", "bad q-sign-time %r" % a["q-sign-time"])
        now = time.time()
        if now > e:
            raise Reject(403, "AccessDenied", "Request has expired",
                         "stale timestamp: q-sign-time ended %ds ago (%s)" % (now - e, a["q-sign-time"]))
        if now < s - 300:
            raise Reject(403, "AccessDenied", "Request has expired",
                         "stale timestamp: q-sign-time starts %ds in the future (%s)" % (s - now, a["q-sign-time"]))
        hnames = [x for x in a["q-header-list"].split(";") if x]
        if "host" not in hnames:
            raise Reject(403, "AccessDenied", "Access Denied.", "q-header-list does not include host")
        hpairs = []
        for n in hnames:
            v = h.headers.get(n)
            if v is None:
                raise Reject(403, "SignatureDoesNotMatch", "The Signature you specified is invalid.",
                             "signed header %r (q-header-list) is not in the request" % n)
            hpairs.append((n, v.strip()))
        pnames = [x for x in a["q-url-param-list"].split(";") if x]
        qlower = {}
        for k, v in qp:
            qlower.setdefault(S.rfc3986(k).lower(), (k, v))
        ppairs = []
        for n in pnames:
            if n not in qlower:
                raise Reject(403, "SignatureDoesNotMatch", "The Signature you specified is invalid.",
                             "signed url param %r (q-url-param-list) is not in the request" % n)
            ppairs.append(qlower[n])
        for must in ("uploads", "uploadid", "partnumber"):
            if must in qlower and must not in pnames:
                raise Reject(403, "SignatureDoesNotMatch", "The Signature you specified is invalid.",
                             "url param %r present but not signed (q-url-param-list=%r)" % (must, a["q-url-param-list"]))
        hl, hh = S.cos_format_pairs(hpairs)
        pl, pp = S.cos_format_pairs(ppairs)
        path_dec = urllib.parse.unquote(h.raw_path)
        hs = S.cos_http_string(h.command, path_dec, pp, hh)
        sts = S.cos_string_to_sign(a["q-sign-time"], hs)
        exp = S.cos_signature(cred["secret"], a["q-key-time"], sts)
        if not hmac_eq(exp, a["q-signature"].lower()):
            raise Reject(403, "SignatureDoesNotMatch", "The Signature you specified is invalid.",
                         "signature mismatch: got %s expected %s; expected HttpString %r; expected string-to-sign %r"
                         % (a["q-signature"], exp, hs, sts))
    except Reject as r:
        st.record_rejection("cos", kind, r.status, r.code, r.reason, host=h.host, path=h.raw_path)
        h.finish_reject()
        return storage_error(h, "cos", r.status, r.code, r.message)
    if apply_kind_fault(h, "cos", kind):
        return
    wan_delay()
    if wan_part_enter(h, "cos", kind):
        return
    try:
        storage_ops(h, "cos", bucket, key, kind, q, cred)
    except Reject as r:
        st.record_rejection("cos", kind, r.status, r.code, r.reason, host=h.host, path=h.raw_path)
        h.finish_reject()
        return storage_error(h, "cos", r.status, r.code, r.message)
    finally:
        wan_part_leave(kind)
    if not cred.get("permanent"):
        st.storage_request_done()


# ============================================================================================
# OSS
# ============================================================================================

def oss_handler(h, bucket, region):
    st = STATE
    key = urllib.parse.unquote(h.raw_path[1:]) if h.raw_path.startswith("/") else ""
    qp = h.query_pairs()
    q = dict(qp)
    kind = storage_kind(h.command, q, key)
    h._auth_kind = None
    try:
        auth = h.headers.get("Authorization") or ""
        token = h.headers.get("x-oss-security-token")
        if "security-token" in q:
            if token is not None:
                raise Reject(400, "InvalidArgument", "Both security-token header and parameter given.",
                             "x-oss-security-token header and security-token parameter both present")
            token = q["security-token"]
        if auth.startswith("OSS4-HMAC-SHA256"):
            cred = oss_v4_verify(h, auth, bucket, key, token, region)
            h._auth_kind = "OSS4-HMAC-SHA256"
        elif auth.startswith("OSS "):
            cred = oss_v1_verify(h, auth, bucket, key, qp, token)
            h._auth_kind = "OSS"
        else:
            raise Reject(403, "AccessDenied", "AccessDenied", "missing or unsupported Authorization %r" % auth[:40])
    except Reject as r:
        st.record_rejection("oss", kind, r.status, r.code, r.reason, host=h.host, path=h.raw_path)
        h.finish_reject()
        return storage_error(h, "oss", r.status, r.code, r.message, r.extra)
    if apply_kind_fault(h, "oss", kind):
        return
    wan_delay()
    if wan_part_enter(h, "oss", kind):
        return
    try:
        storage_ops(h, "oss", bucket, key, kind, q, cred)
    except Reject as r:
        st.record_rejection("oss", kind, r.status, r.code, r.reason, host=h.host, path=h.raw_path)
        h.finish_reject()
        return storage_error(h, "oss", r.status, r.code, r.message, r.extra)
    finally:
        wan_part_leave(kind)
    if not cred.get("permanent"):
        st.storage_request_done()


def oss_v1_verify(h, auth, bucket, key, qp, token):
    m = re.match(r"^OSS ([^:]+):(.+)$", auth.strip())
    if not m:
        raise Reject(403, "AccessDenied", "Authorization header is invalid.", "malformed OSS Authorization %r" % auth)
    ak, sig = m.groups()
    cred = check_temp_cred("alibaba", ak, token, bucket, key, bucket_level=not key)
    date = h.headers.get("Date")
    xdate = h.headers.get("x-oss-date")
    dates = [d for d in (date, xdate) if d]
    if not dates:
        raise Reject(403, "AccessDenied", "Date header is missing.", "neither Date nor x-oss-date header present")
    t = parse_http_date(xdate or date)
    if t is None:
        raise Reject(403, "AccessDenied", "Invalid date.", "unparseable date %r" % (xdate or date))
    skew = int(time.time() - t)
    if abs(skew) > OSS_SKEW:
        raise Reject(403, "RequestTimeTooSkewed", "The difference between the request time and the current time "
                     "is too large.", "stale timestamp: skew %ds (date %r, limit %ds)" % (skew, xdate or date, OSS_SKEW))
    ch = S.oss_canonical_headers(h.headers.items())
    cr = S.oss_canonical_resource(bucket, key, qp)
    first = None
    for d in dates:
        sts = S.oss_v1_string_to_sign(h.command, h.headers.get("Content-MD5") or "",
                                      h.headers.get("Content-Type") or "", d, ch, cr)
        exp = S.oss_v1_signature(cred["secret"], sts)
        if first is None:
            first = (sts, exp)
        if hmac_eq(exp, sig):
            return cred
    sts, exp = first
    raise Reject(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the "
                 "signature you provided. Check your key and signing method.",
                 "signature mismatch: got %s expected %s; expected string-to-sign %r" % (sig, exp, sts),
                 {"StringToSign": sts, "OSSAccessKeyId": ak})


def oss_v4_verify(h, auth, bucket, key, token, region):
    fields = {}
    for part in auth[len("OSS4-HMAC-SHA256"):].split(","):
        if "=" in part:
            k, v = part.strip().split("=", 1)
            fields[k] = v
    cp = (fields.get("Credential") or "").split("/")
    if len(cp) != 5 or cp[3] != "oss" or cp[4] != "aliyun_v4_request":
        raise Reject(403, "AccessDenied", "Invalid credential.", "malformed V4 Credential %r" % fields.get("Credential"))
    ak, date, creg = cp[0], cp[1], cp[2]
    cred = check_temp_cred("alibaba", ak, token, bucket, key, bucket_level=not key)
    xdate = h.headers.get("x-oss-date") or ""
    try:
        t = time.mktime(time.strptime(xdate, "%Y%m%dT%H%M%SZ")) - time.timezone
    except ValueError:
        raise Reject(403, "AccessDenied", "Invalid x-oss-date.", "bad x-oss-date %r" % xdate)
    skew = int(time.time() - t)
    if abs(skew) > OSS_SKEW:
        raise Reject(403, "RequestTimeTooSkewed", "The difference between the request time and the current time "
                     "is too large.", "stale timestamp: skew %ds (x-oss-date %s)" % (skew, xdate))
    if date != xdate[:8]:
        raise Reject(403, "SignatureDoesNotMatch", "Credential date mismatch.",
                     "credential scope date %s differs from x-oss-date %s" % (date, xdate))
    if creg != region:
        raise Reject(403, "SignatureDoesNotMatch", "Credential region mismatch.",
                     "credential scope region %s differs from endpoint region %s" % (creg, region))
    add = [x for x in (fields.get("AdditionalHeaders") or "").split(";") if x]
    raw_q = []
    for item in (h.raw_query.split("&") if h.raw_query else []):
        if "=" in item:
            k, v = item.split("=", 1)
        else:
            k, v = item, None
        raw_q.append((S.rfc3986(urllib.parse.unquote(k)), S.rfc3986(urllib.parse.unquote(v)) if v else v))
    payload = h.headers.get("x-oss-content-sha256") or "UNSIGNED-PAYLOAD"
    cr = S.oss_v4_canonical_request(h.command, bucket, key, raw_q, list(h.headers.items()), add, payload)
    sts, exp = S.oss_v4_signature(cred["secret"], xdate, creg, cr)
    if not hmac_eq(exp, (fields.get("Signature") or "").lower()):
        raise Reject(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the "
                     "signature you provided.",
                     "signature mismatch (V4): got %s expected %s; expected canonical request %r; expected "
                     "string-to-sign %r" % (fields.get("Signature"), exp, cr, sts), {"StringToSign": sts})
    return cred


# ============================================================================================
# Alibaba VOD OpenAPI (RPC)
# ============================================================================================

class AliError(Exception):
    def __init__(self, status, code, message, reason=None):
        super().__init__(message)
        self.status, self.code, self.message, self.reason = status, code, message, reason or message


def ali_respond(h, status, obj, fmt):
    if (fmt or "XML").upper() == "JSON":
        return h.send_json(status, obj)
    root = "Error" if "Code" in obj and status >= 400 else h._ali_action + "Response"
    x = '<?xml version="1.0" encoding="UTF-8"?>\n' + dict_to_xml(root, obj)
    return h.send_bytes(status, x.encode("utf-8"), "text/xml; charset=utf-8")


def alibaba_api(h, region):
    st = STATE
    body = h.body_reader().read_all() if h.has_body() else b""
    params = dict(h.query_pairs())
    ctype = (h.headers.get("Content-Type") or "").lower()
    if body and ("form-urlencoded" in ctype or not ctype):
        params.update(dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)))
    action = params.get("Action") or h.headers.get("x-acs-action") or ""
    h._ali_action = action
    h._ali_extra = {}  # set by an action: recorded with its call
    fmt = params.get("Format") or ("JSON" if h.headers.get("x-acs-action") else "XML")
    rid = str(uuid.uuid4()).upper()
    try:
        auth = h.headers.get("Authorization") or ""
        if auth.startswith("ACS3-HMAC-SHA256"):
            acs3_verify(h, auth, body)
            version = h.headers.get("x-acs-version")
        else:
            ali_rpc_verify(h, params)
            version = params.get("Version")
        if version != "2017-03-21":
            raise AliError(400, "InvalidVersion", "Specified parameter Version is not valid.",
                           "Version %r, expected 2017-03-21" % version)
    except AliError as e:
        st.record_rejection("vod-alibaba", action, e.status, e.code, e.reason)
        return ali_respond(h, e.status, {"RequestId": rid, "HostId": h.host, "Code": e.code, "Message": e.message}, fmt)
    if apply_kind_fault(h, "vod-alibaba", action):
        return
    fn = ALI_ACTIONS.get(action)
    clean = {k: v for k, v in params.items() if k not in ("Signature", "AccessKeyId", "SecurityToken")}
    try:
        if not fn:
            raise AliError(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
        resp = fn(h, params, region)
    except AliError as e:
        st.record_call("vod-alibaba", action, clean, len(body), status=e.status, error=e.code)
        return ali_respond(h, e.status, {"RequestId": rid, "HostId": h.host, "Code": e.code, "Message": e.message}, fmt)
    st.record_call("vod-alibaba", action, clean, len(body), **h._ali_extra)
    out = {"RequestId": rid}
    out.update(resp)
    return ali_respond(h, 200, out, fmt)


def ali_rpc_verify(h, params):
    ak = params.get("AccessKeyId")
    if not ak:
        raise AliError(400, "MissingAccessKeyId", "AccessKeyId is mandatory for this action.", "missing AccessKeyId")
    secret = STATE.alibaba_keys.get(ak)
    if secret is None:
        raise AliError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.",
                       "unknown AccessKeyId %r" % ak)
    sig = params.get("Signature")
    if not sig:
        raise AliError(400, "MissingSignature", "Signature is mandatory for this action.", "missing Signature")
    if params.get("SignatureMethod") not in ("HMAC-SHA1",):
        raise AliError(400, "InvalidSignatureMethod", "Specified signature method is not valid.",
                       "SignatureMethod %r" % params.get("SignatureMethod"))
    if params.get("SignatureVersion") != "1.0":
        raise AliError(400, "InvalidSignatureVersion", "Specified signature version is not valid.",
                       "SignatureVersion %r" % params.get("SignatureVersion"))
    sts = S.ali_rpc_string_to_sign(h.command, params)
    exp = S.ali_rpc_signature(secret, sts)
    ok = hmac_eq(exp, sig)
    if not ok and any(v == "" for v in params.values()):
        # the SDKs skip empty values; a client that signs "Name=" too is also plausible
        alt = S.ali_rpc_string_to_sign(h.command, {k: (v if v != "" else "\0") for k, v in params.items()})
        alt = alt.replace("%2500", "")
        ok = hmac_eq(S.ali_rpc_signature(secret, alt), sig)
    if not ok:
        raise AliError(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. "
                       "server string to sign is:%s" % sts,
                       "signature mismatch: got %s expected %s; expected string-to-sign %r" % (sig, exp, sts))
    ts = params.get("Timestamp")
    if ts:  # the Android SDK never sends it (UNCONFIRMED whether the server requires it): accept absence
        try:
            t = time.mktime(time.strptime(ts, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        except ValueError:
            raise AliError(400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well "
                           "formatted.", "bad Timestamp %r" % ts)
        skew = int(time.time() - t)
        if abs(skew) > ALI_SKEW:
            raise AliError(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.",
                           "stale timestamp: skew %ds (Timestamp %s, limit %ds)" % (skew, ts, ALI_SKEW))
    nonce = params.get("SignatureNonce")
    if not nonce:
        raise AliError(400, "MissingSignatureNonce", "SignatureNonce is mandatory.", "missing SignatureNonce")
    check_nonce(nonce)


def check_nonce(nonce):
    now = time.time()
    with STATE.lock:
        for k in [k for k, t in STATE.nonces.items() if now - t > NONCE_WINDOW]:
            del STATE.nonces[k]
        if nonce in STATE.nonces:
            raise AliError(400, "SignatureNonceUsed", "Specified signature nonce was used already.",
                           "SignatureNonce replay: %r already used %ds ago" % (nonce, now - STATE.nonces[nonce]))
        STATE.nonces[nonce] = now


def acs3_verify(h, auth, body):
    m = re.match(r"^ACS3-HMAC-SHA256\s+Credential=([^,]+),\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]+)$", auth.strip())
    if not m:
        raise AliError(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards.",
                       "malformed ACS3 Authorization %r" % auth)
    ak, signed, sig = m.groups()
    secret = STATE.alibaba_keys.get(ak)
    if secret is None:
        raise AliError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.",
                       "unknown AccessKeyId %r" % ak)
    names = signed.split(";")
    vals = []
    for n in names:
        v = h.headers.get_all(n)
        if v is None:
            raise AliError(400, "SignatureDoesNotMatch", "Signed header missing.", "signed header %r missing" % n)
        vals.append((n, ",".join(sorted(x.strip() for x in v))))
    qp = h.query_pairs()
    cq = S.acs3_canonical_query(qp)
    payload = h.headers.get("x-acs-content-sha256") or S.sha256_hex(body)
    if payload != S.sha256_hex(body) and payload != "UNSIGNED-PAYLOAD":
        raise AliError(400, "SignatureDoesNotMatch", "x-acs-content-sha256 mismatch.",
                       "x-acs-content-sha256 %s differs from body hash %s" % (payload, S.sha256_hex(body)))
    cr = S.acs3_canonical_request(h.command, h.raw_path or "/", cq, vals, signed, payload)
    sts, exp = S.acs3_signature(secret, cr)
    if not hmac_eq(exp, sig):
        raise AliError(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.",
                       "signature mismatch (ACS3): got %s expected %s; expected canonical request %r" % (sig, exp, cr))
    d = h.headers.get("x-acs-date")
    if d:
        try:
            t = time.mktime(time.strptime(d, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
            if abs(time.time() - t) > ALI_SKEW:
                raise AliError(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.",
                               "stale timestamp: skew %ds (x-acs-date %s)" % (time.time() - t, d))
        except ValueError:
            pass
    n = h.headers.get("x-acs-signature-nonce")
    if n:
        check_nonce(n)


def parse_user_data(s):
    if not s:
        return None
    try:
        ud = json.loads(s)
    except ValueError:
        raise AliError(400, "InvalidParameter", "The specified parameter UserData is not valid JSON.",
                       "UserData is not JSON: %r" % s[:200])
    return ud if isinstance(ud, dict) else None


def ali_region_endpoint(region):
    return "https://oss-%s.aliyuncs.com" % region


def ali_upload_auth(cred, region):
    return base64.b64encode(json.dumps({
        "SecurityToken": cred["token"], "AccessKeyId": cred["ak"],
        "ExpireUTCTime": iso(cred["expires"]), "AccessKeySecret": cred["secret"],
        "Expiration": str(int(STATE.config["credential_ttl"])), "Region": region}).encode()).decode()


def ali_upload_address(region, bucket, key):
    return base64.b64encode(json.dumps({"Endpoint": ali_region_endpoint(region), "Bucket": bucket,
                                        "FileName": key}).encode()).decode()


def ali_app(p):
    """The AppId a creation call names (default app-1000000). One the account does not have is refused;
    the reference gives no code for it (unconfirmed): the common InvalidParameter (400) of
    https://www.alibabacloud.com/help/en/vod/developer-reference/api-error-codes is answered."""
    app = p.get("AppId") or "app-1000000"
    if app not in (STATE.config.get("alibaba_app_ids") or []):
        raise AliError(400, "InvalidParameter", "The specified parameter AppId is not valid.",
                       "unknown AppId %r" % app)
    return app


# CreateUploadAttachedMedia (https://www.alibabacloud.com/help/en/vod/api-createuploadattachedmedia):
# BusinessType watermark, subtitle or material, and the MediaExt each allows; answers MediaId, MediaURL,
# FileURL and the UploadAddress / UploadAuth pair, which cannot be refreshed.
ALI_ATTACHED_EXTS = {"watermark": ("png", "gif", "apng", "mov"),
                     "subtitle": ("srt", "ass", "stl", "ttml", "vtt"),
                     "material": ("jpg", "gif", "png", "mp4", "mat", "zip", "apk")}


def ali_create_upload_attached_media(h, p, region):
    bt = p.get("BusinessType")
    if not bt:
        raise AliError(400, "MissingBusinessType", "BusinessType is mandatory for this action.")
    if bt not in ALI_ATTACHED_EXTS:
        raise AliError(400, "InvalidParameter", "The specified parameter BusinessType is not valid.")
    ext = (p.get("MediaExt") or "").lower()
    if ext not in ALI_ATTACHED_EXTS[bt]:
        raise AliError(400, "InvalidParameter", "The specified parameter MediaExt is not valid.",
                       "MediaExt %r for %s" % (ext, bt))
    app = ali_app(p)
    mid = rand_hex(32)
    key = "attached/%s/%s.%s" % (bt, rand_hex(32).upper(), ext)
    bucket = DEFAULT_ALI_BUCKET
    cred = STATE.issue_cred("alibaba", bucket, [key], media_id=mid)
    url = "https://%s.oss-%s.aliyuncs.com/%s" % (bucket, region, key)
    m = {"provider": "alibaba", "kind": "attached", "id": mid, "title": p.get("Title") or "", "bucket": bucket,
         "key": key, "region": region, "state": "Uploading", "size": int(p.get("FileSize") or 0),
         "user_data": parse_user_data(p.get("UserData")), "business_type": bt, "cate_ids": p.get("CateIds"),
         "tags": p.get("Tags"), "create_time": iso(), "app_id": app, "file_url": url}
    with STATE.lock:
        STATE.media[mid] = m
        STATE.ali_by_object[(bucket, key)] = mid
    return {"MediaId": mid, "MediaURL": url, "FileURL": url,
            "UploadAddress": ali_upload_address(region, bucket, key), "UploadAuth": ali_upload_auth(cred, region)}


def ali_create_upload_video(h, p, region):
    fn = p.get("FileName")
    title = p.get("Title")
    if not fn:
        raise AliError(400, "MissingFileName", "FileName is mandatory for this action.")
    if not title:
        raise AliError(400, "MissingTitle", "Title is mandatory for this action.")
    ext = fn.rsplit(".", 1)[-1].lower() if "." in fn.replace("\\", "/").rsplit("/", 1)[-1] else ""
    if not ext or not re.match(r"^[a-z0-9]{1,8}$", ext):
        raise AliError(400, "InvalidFileName.Extension", "The file extension is not supported.",
                       "FileName %r has no extension" % fn)
    ud = parse_user_data(p.get("UserData"))
    vid = rand_hex(32)
    d = "%s-%s" % (rand_hex(8), rand_hex(11))
    key = "sv/%s/%s.%s" % (d, d, ext)
    bucket = DEFAULT_ALI_BUCKET
    cred = STATE.issue_cred("alibaba", bucket, [key], media_id=vid)
    m = {"provider": "alibaba", "kind": "video", "id": vid, "title": title, "file_name": fn, "bucket": bucket,
         "key": key, "region": region, "state": "Uploading", "size": int(p.get("FileSize") or 0),
         "user_data": ud, "template_group_id": p.get("TemplateGroupId"), "workflow_id": p.get("WorkflowId"),
         "cate_id": p.get("CateId"), "tags": p.get("Tags"), "description": p.get("Description"),
         "create_time": iso(), "app_id": ali_app(p),
         "file_url": "http://%s.oss-%s.aliyuncs.com/%s" % (bucket, region, key)}
    with STATE.lock:
        STATE.media[vid] = m
        STATE.ali_by_object[(bucket, key)] = vid
    return {"VideoId": vid, "UploadAddress": ali_upload_address(region, bucket, key),
            "UploadAuth": ali_upload_auth(cred, region)}


def ali_refresh_upload_video(h, p, region):
    vid = p.get("VideoId")
    if not vid:
        raise AliError(400, "MissingVideoId", "VideoId is mandatory for this action.")
    with STATE.lock:
        m = STATE.media.get(vid)
    if not m or m.get("kind") != "video":
        raise AliError(404, "InvalidVideo.NotFound", "The video does not exist.", "unknown VideoId %r" % vid)
    cred = STATE.issue_cred("alibaba", m["bucket"], [m["key"]], media_id=vid)
    return {"VideoId": vid, "UploadAddress": ali_upload_address(m["region"], m["bucket"], m["key"]),
            "UploadAuth": ali_upload_auth(cred, m["region"])}


def ali_create_upload_image(h, p, region):
    it = p.get("ImageType")
    if not it:
        raise AliError(400, "MissingImageType", "ImageType is mandatory for this action.")
    if it not in ("default", "cover", "watermark"):
        raise AliError(400, "InvalidParameter", "The specified parameter ImageType is not valid.")
    ext = (p.get("ImageExt") or "png").lower()
    if ext not in ("png", "jpg", "jpeg", "gif"):
        raise AliError(400, "InvalidParameter", "The specified parameter ImageExt is not valid.")
    iid = rand_hex(32)
    key = "image/%s/%s.%s" % (it, rand_hex(32).upper(), ext)
    bucket = DEFAULT_ALI_BUCKET
    cred = STATE.issue_cred("alibaba", bucket, [key], media_id=iid)
    url = "https://%s.oss-%s.aliyuncs.com/%s" % (bucket, region, key)
    m = {"provider": "alibaba", "kind": "image", "id": iid, "title": p.get("Title") or "", "bucket": bucket,
         "key": key, "region": region, "state": "Uploading", "size": 0, "user_data": parse_user_data(p.get("UserData")),
         "create_time": iso(), "app_id": ali_app(p), "file_url": url}
    with STATE.lock:
        STATE.media[iid] = m
        STATE.ali_by_object[(bucket, key)] = iid
    return {"ImageId": iid, "ImageURL": url, "FileURL": url,
            "UploadAddress": ali_upload_address(region, bucket, key), "UploadAuth": ali_upload_auth(cred, region)}


def ali_get_video_info(h, p, region):
    vid = p.get("VideoId")
    if not vid:
        raise AliError(400, "MissingVideoId", "VideoId is mandatory for this action.")
    with STATE.lock:
        m = STATE.media.get(vid)
        if not m or m.get("kind") != "video":
            raise AliError(404, "InvalidVideo.NotFound", "The video does not exist.", "unknown VideoId %r" % vid)
        v = {"VideoId": vid, "Title": m["title"], "Description": m.get("description") or "",
             "Status": m["state"], "Size": m["size"], "Duration": 15.0 if m["state"] == "Normal" else 0,
             "CreationTime": m["create_time"], "ModificationTime": iso(), "CateId": int(m.get("cate_id") or 0),
             "Tags": m.get("tags") or "", "TemplateGroupId": m.get("template_group_id") or "",
             "StorageLocation": "%s.oss-%s.aliyuncs.com" % (m["bucket"], m["region"]),
             "AppId": m.get("app_id"), "RegionId": m["region"], "CoverURL": "",
             "Snapshots": {"Snapshot": []}}
    return {"Video": v}


def ali_upload_media_by_url(h, p, region):
    urls = p.get("UploadURLs")
    if not urls:
        raise AliError(400, "MissingUploadURLs", "UploadURLs is mandatory for this action.")
    lst = [urllib.parse.unquote(u) for u in urls.split(",") if u.strip()]
    if len(lst) > 20:
        raise AliError(400, "InvalidParameter.UploadURLs", "At most 20 URLs.")
    metas = {}
    if p.get("UploadMetadatas"):
        try:
            for md in json.loads(p["UploadMetadatas"]):
                metas[md.get("SourceURL")] = md
        except (ValueError, AttributeError):
            raise AliError(400, "InvalidParameter", "UploadMetadatas is not valid JSON.")
    ud = parse_user_data(p.get("UserData"))
    jobs = []
    for u in lst:
        jid = rand_hex(32)
        jobs.append({"SourceURL": u, "JobId": jid})
        with STATE.lock:
            STATE.ali_url_jobs[jid] = {"JobId": jid, "UploadURL": u, "Status": "PENDING",
                                       "CreationTime": iso(), "UserData": p.get("UserData") or ""}
        spawn(ali_url_job, u, jid, metas.get(u) or {}, ud, p, region)
    return {"UploadJobs": jobs}


def ali_url_job_update(jid, **kw):
    with STATE.lock:
        j = STATE.ali_url_jobs.get(jid)  # gone after a reset
        if j is not None:
            j.update(kw)


def ali_url_job(url, jid, meta, ud, p, region):
    ext = (meta.get("FileExtension") or urllib.parse.urlsplit(url).path.rsplit(".", 1)[-1] or "mp4").lower()
    vid = rand_hex(32)
    bucket = DEFAULT_ALI_BUCKET
    d = "%s-%s" % (rand_hex(8), rand_hex(11))
    key = "sv/%s/%s.%s" % (d, d, ext)
    m = {"provider": "alibaba", "kind": "video", "id": vid, "title": meta.get("Title") or url.rsplit("/", 1)[-1],
         "bucket": bucket, "key": key, "region": region, "state": "Uploading", "size": 0, "user_data": ud,
         "template_group_id": meta.get("TemplateGroupId") or p.get("TemplateGroupId"),
         "workflow_id": meta.get("WorkflowId") or p.get("WorkflowId"), "create_time": iso(),
         "app_id": ali_app(p), "source_url": url, "job_id": jid,
         "file_url": "http://%s.oss-%s.aliyuncs.com/%s" % (bucket, region, key)}
    path = STATE.new_file()
    h = hashlib.md5()
    size = 0
    ali_url_job_update(jid, Status="DOWNLOADING")
    try:
        req = urllib.request.Request(url, headers={"User-Agent": "vodhook-emulator"})
        with urllib.request.urlopen(req, timeout=30, context=_ssl_unverified) as r, open(path, "wb") as f:
            while True:
                b = r.read(CHUNK)
                if not b:
                    break
                h.update(b)
                f.write(b)
                size += len(b)
    except Exception as e:  # noqa: BLE001
        try:
            os.unlink(path)
        except OSError:
            pass
        STATE.record_call("vod-alibaba", "UploadByURLDownload", {"url": url, "error": str(e)}, 0, status=None)
        ali_url_job_update(jid, Status="FAIL", ErrorCode="URLInvalidError",
                           ErrorMessage="download video failed by the url, please check it", CompleteTime=iso())
        batch = EventBatch("alibaba")
        batch.emit((ali_callback_url({"user_data": ud}), {
            "Status": "fail", "EventTime": iso(), "EventType": "UploadByURLComplete", "ErrorCode": "URLInvalidError",
            "ErrorMessage": "download video failed by the url, please check it", "JobId": jid, "SourceURL": url}))
        batch.close()
        return
    md5hex = h.hexdigest()
    with STATE.lock:
        STATE.media[vid] = m
        STATE.ali_by_object[(bucket, key)] = vid
    STATE.put_object("oss", bucket, key, path, size, md5hex, '"%s"' % md5hex.upper())
    STATE.record_call("vod-alibaba", "UploadByURLDownload", {"url": url, "VideoId": vid}, size)
    with STATE.lock:
        m["size"] = size
        m["md5"] = md5hex
        m["uploaded"] = True
    ali_url_job_update(jid, Status="SUCCESS", MediaId=vid, FileSize=str(size), ErrorCode="200",
                       ErrorMessage="Success", CompleteTime=iso())
    pre = [{"Status": "success", "EventTime": iso(), "EventType": "UploadByURLComplete", "VideoId": vid,
            "JobId": jid, "SourceURL": url, "Size": str(size)}]
    ali_events_for(m, pre=pre)


def ali_get_url_upload_infos(h, p, region):
    """GetURLUploadInfos (API reference, doc-detail/106830): the jobs by JobIds, else by UploadURLs (at most 10,
    comma-separated); NonExists lists what is not known. Status goes PENDING -> DOWNLOADING -> SUCCESS | FAIL (the
    reference's samples also show "Normal": an emulator choice)."""
    if p.get("JobIds"):
        keys, by_url = [j.strip() for j in p["JobIds"].split(",") if j.strip()], False
    elif p.get("UploadURLs"):
        keys, by_url = [urllib.parse.unquote(u.strip()) for u in p["UploadURLs"].split(",") if u.strip()], True
    else:
        raise AliError(400, "MissingParameter", "JobIds or UploadURLs is mandatory for this action.")
    if len(keys) > 10:
        raise AliError(400, "InvalidParameter", "At most 10 JobIds or UploadURLs.",
                       "%d JobIds/UploadURLs" % len(keys))
    found, absent = [], []
    with STATE.lock:
        for k in keys:
            js = ([j for j in STATE.ali_url_jobs.values() if j["UploadURL"] == k] if by_url
                  else [STATE.ali_url_jobs[k]] if k in STATE.ali_url_jobs else [])
            found.extend(dict(j) for j in js)
            if not js:
                absent.append(k)
    h._ali_extra = {"answer": {j["JobId"]: j["Status"] for j in found}}
    return {"NonExists": absent, "URLUploadInfoList": found}


# An id list parameter (comma-separated, at most 20, as DeleteVideo, GetAttachedMediaInfo and
# DeleteAttachedMedia take it): the ids, or Alibaba's errors for none (Missing<field>) and too many.
def ali_id_list(p, field):
    ids = [x.strip() for x in (p.get(field) or "").split(",") if x.strip()]
    if not ids:
        raise AliError(400, "Missing" + field, "%s is mandatory for this action." % field)
    if len(ids) > 20:
        raise AliError(400, "InvalidParameter", "The specified parameter %s is not valid." % field,
                       "%d %s, at most 20" % (len(ids), field))
    return ids


# The Alibaba media of this kind (video, image, attached) with this id, or None. Under STATE.lock.
def ali_media(mid, kind):
    m = STATE.media.get(mid)
    return m if m and m.get("provider") == "alibaba" and m.get("kind") == kind else None


# DeleteVideo (https://help.aliyun.com/zh/vod/developer-reference/api-vod-2017-03-21-deletevideo):
# VideoIds, comma-separated, at most 20. The answer lists the ids not deleted: NonExistVideoIds (unknown)
# and ForbiddenVideoIds (never here). Each video deleted is gone at once (GetVideoInfo:
# InvalidVideo.NotFound) and sends DeleteMediaComplete {EventType, EventTime, Status success, MediaType
# video, DeleteType all, MediaId} (https://help.aliyun.com/zh/vod/user-guide/deletemediacomplete, "only
# the DeleteVideo operation generates it"), to the video's own callback URL if its UserData named one.
def ali_delete_video(h, p, region):
    ids = ali_id_list(p, "VideoIds")
    gone, deleted = [], []
    with STATE.lock:
        for vid in ids:
            m = ali_media(vid, "video")
            if not m:
                gone.append(vid)
                continue
            del STATE.media[vid]
            deleted.append(m)
    for m in deleted:
        spawn(ali_delete_events, m)
    return {"NonExistVideoIds": gone, "ForbiddenVideoIds": []}


def ali_delete_events(m):
    batch = EventBatch("alibaba")
    batch.emit((ali_callback_url(m), {"EventType": "DeleteMediaComplete", "EventTime": iso(),
                                      "Status": "success", "MediaType": "video", "DeleteType": "all",
                                      "MediaId": m["id"]}))
    batch.close()


# DeleteImage (https://help.aliyun.com/zh/vod/developer-reference/api-vod-2017-03-21-deleteimage):
# DeleteImageType ImageURL (ImageURLs), ImageId (ImageIds, comma-separated, at most 20) or VideoId
# (VideoId, ImageType: a video's snapshots, which the emulator does not keep). The answer is the RequestId
# only and no event follows (DeleteMediaComplete comes from DeleteVideo alone). The reference lists no
# code for an unknown image: InvalidImage.NotFound (404) is the emulator's choice, on the pattern of
# InvalidVideo.NotFound.
def ali_delete_image(h, p, region):
    kind = p.get("DeleteImageType")
    if kind not in ("ImageURL", "ImageId", "VideoId"):
        raise AliError(400, "InvalidParameter", "The specified parameter DeleteImageType is not valid.",
                       "DeleteImageType %r" % kind)
    if kind == "VideoId":
        if not p.get("VideoId") or not p.get("ImageType"):
            raise AliError(400, "InvalidParameter", "VideoId and ImageType are mandatory for this type.")
        return {}
    field = "ImageIds" if kind == "ImageId" else "ImageURLs"
    vals = [x.strip() for x in (p.get(field) or "").split(",") if x.strip()]
    if not vals or len(vals) > 20:
        raise AliError(400, "InvalidParameter", "The specified parameter %s is not valid." % field)
    with STATE.lock:
        found = []
        for v in vals:
            m = next((x for x in STATE.media.values() if x.get("provider") == "alibaba" and
                      x.get("kind") == "image" and (x["id"] == v if kind == "ImageId" else x["file_url"] == v)),
                     None)
            if not m:
                raise AliError(404, "InvalidImage.NotFound", "The image does not exist.", "unknown %s %r" % (
                    field, v))
            found.append(m["id"])
        for iid in found:
            del STATE.media[iid]
    return {}


# GetImageInfo (https://help.aliyun.com/document_detail/89742.html; SDK model GetImageInfoResponseBody):
# ImageId -> ImageInfo {ImageId, Title, ImageType, Status Uploading | Normal | UploadFail, URL, StorageLocation,
# CreationTime, AppId, Mezzanine}. The reference lists no code for an unknown ImageId: InvalidImage.NotFound
# (404) is the emulator's choice, as for DeleteImage.
def ali_get_image_info(h, p, region):
    iid = p.get("ImageId")
    if not iid:
        raise AliError(400, "MissingImageId", "ImageId is mandatory for this action.")
    with STATE.lock:
        m = ali_media(iid, "image")
        if not m:
            raise AliError(404, "InvalidImage.NotFound", "The image does not exist.", "unknown ImageId %r" % iid)
        info = {"ImageId": iid, "Title": m.get("title") or "", "ImageType": m.get("image_type") or "default",
                "Status": m["state"], "URL": m["file_url"], "CreationTime": m["create_time"],
                "StorageLocation": "%s.oss-%s.aliyuncs.com" % (m["bucket"], m["region"]),
                "AppId": m.get("app_id"), "Mezzanine": {"FileSize": m["size"], "FileURL": m["file_url"]}}
    return {"ImageInfo": info}


# GetAttachedMediaInfo (https://help.aliyun.com/document_detail/454905.html; SDK model
# GetAttachedMediaInfoResponseBody): MediaIds, comma-separated, at most 20 -> AttachedMediaList[] {MediaId,
# Title, Type, Status Uploading | Normal | UploadFail, URL, StorageLocation, CreationTime, AppId} and
# NonExistMediaIds (an array of ids). The action is singular; there is no GetAttachedMediaInfos.
def ali_get_attached_media_info(h, p, region):
    ids = ali_id_list(p, "MediaIds")
    found, absent = [], []
    with STATE.lock:
        for mid in ids:
            m = ali_media(mid, "attached")
            if not m:
                absent.append(mid)
                continue
            found.append({"MediaId": mid, "Title": m.get("title") or "", "Type": m.get("business_type"),
                          "Status": m["state"], "URL": m["file_url"], "CreationTime": m["create_time"],
                          "StorageLocation": "%s.oss-%s.aliyuncs.com" % (m["bucket"], m["region"]),
                          "AppId": m.get("app_id"), "Tags": m.get("tags") or ""})
    return {"AttachedMediaList": found, "NonExistMediaIds": absent}


# DeleteAttachedMedia (https://help.aliyun.com/zh/vod/developer-reference/api-vod-2017-03-21-deleteattachedmedia;
# SDK models DeleteAttachedMediaRequest, DeleteAttachedMediaResponseBody): MediaIds, comma-separated, at most 20;
# the answer lists the ids not deleted in NonExistMediaIds. No event follows (DeleteMediaComplete comes from
# DeleteVideo alone).
def ali_delete_attached_media(h, p, region):
    ids = ali_id_list(p, "MediaIds")
    gone = []
    with STATE.lock:
        for mid in ids:
            m = ali_media(mid, "attached")
            if not m:
                gone.append(mid)
                continue
            del STATE.media[mid]
    return {"NonExistMediaIds": gone}


ALI_ACTIONS = {"CreateUploadVideo": ali_create_upload_video, "RefreshUploadVideo": ali_refresh_upload_video,
               "CreateUploadImage": ali_create_upload_image, "GetVideoInfo": ali_get_video_info,
               "UploadMediaByURL": ali_upload_media_by_url, "GetURLUploadInfos": ali_get_url_upload_infos,
               "CreateUploadAttachedMedia": ali_create_upload_attached_media,
               "DeleteVideo": ali_delete_video, "DeleteImage": ali_delete_image,
               "GetImageInfo": ali_get_image_info, "GetAttachedMediaInfo": ali_get_attached_media_info,
               "DeleteAttachedMedia": ali_delete_attached_media}


# ============================================================================================
# Servers
# ============================================================================================

class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    allow_reuse_address = True
    ssl_ctx = None

    def finish_request(self, request, client_address):
        if self.ssl_ctx is not None:
            try:
                request.settimeout(30)
                tls = self.ssl_ctx.wrap_socket(request, server_side=True)
                tls.settimeout(None)
            except (ssl.SSLError, OSError) as e:
                log("TLS handshake failed from %s: %s" % (client_address, e))
                return
            try:
                self.RequestHandlerClass(tls, client_address, self)
            finally:
                try:
                    tls.close()
                except OSError:
                    pass
            return
        self.RequestHandlerClass(request, client_address, self)

    def handle_error(self, request, client_address):
        e = sys.exc_info()[1]
        if isinstance(e, (ConnectionError, ssl.SSLError, BrokenPipeError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def main(argv=None):
    global STATE, VERBOSE
    ap = argparse.ArgumentParser(description="vodhook cloud emulator (Tencent VOD/COS, Alibaba VOD/OSS)")
    ap.add_argument("--https-port", type=int, default=None)
    ap.add_argument("--http-port", type=int, default=None)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port-file")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--state-dir")
    ap.add_argument("--tencent-secret", action="append")
    ap.add_argument("--alibaba-key", action="append")
    ap.add_argument("--tencent-callback-url")
    ap.add_argument("--tencent-event-mode", choices=["push", "pull"], default="push")
    ap.add_argument("--tencent-legacy", action="store_true")
    ap.add_argument("--tencent-sign-key")
    ap.add_argument("--alibaba-callback-url")
    ap.add_argument("--alibaba-auth-key")
    ap.add_argument("--credential-ttl", type=float, default=3600)
    ap.add_argument("--demo", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    VERBOSE = args.verbose
    if args.https_port is None and args.http_port is None:
        ap.error("give --https-port and/or --http-port")
    if args.https_port is not None and not (args.cert and args.key):
        ap.error("--https-port needs --cert and --key (see gen_ca.sh)")
    own_state = not args.state_dir
    if own_state:
        args.state_dir = tempfile.mkdtemp(prefix="vodhook-emu-")

    def on_term(signum, frame):
        if own_state:
            import shutil
            shutil.rmtree(args.state_dir, ignore_errors=True)
        os._exit(0)
    import signal
    signal.signal(signal.SIGTERM, on_term)
    STATE = State(args)
    servers = {}
    if args.https_port is not None:
        s = Server((args.bind, args.https_port), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        s.ssl_ctx = ctx
        servers["https"] = s
    if args.http_port is not None:
        servers["http"] = Server((args.bind, args.http_port), Handler)
    ports = {k: s.server_address[1] for k, s in servers.items()}
    for s in servers.values():
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    info = {"https": ports.get("https"), "http": ports.get("http"), "pid": os.getpid(), "state_dir": args.state_dir}
    if args.port_file:
        tmp = args.port_file + ".tmp%d" % os.getpid()
        with open(tmp, "w") as f:
            json.dump(info, f)
        os.replace(tmp, args.port_file)
    if args.demo:
        t = list(STATE.tencent_secrets.items())[0]
        a = list(STATE.alibaba_keys.items())[0]
        print("=" * 78)
        print("DEMO CLOUD: this is the vodhook emulator, not Tencent/Alibaba")
        print("  listening: %s" % ", ".join("%s://%s:%d" % (k, args.bind, v) for k, v in ports.items()))
        print("  Tencent VOD SecretId/SecretKey : %s / %s" % t)
        print("  Alibaba AccessKeyId/Secret     : %s / %s" % a)
        print("  Point clients at it with CONNECT_TO ::%s:%s ; inspect with %s://%s:%d/_emu/calls"
              % (args.bind, ports.get("https") or ports.get("http"), "https" if "https" in ports else "http",
                 args.bind, ports.get("https") or ports.get("http")))
        print("  Nothing leaves this machine; objects are stored under %s" % args.state_dir)
        print("=" * 78, flush=True)
    else:
        log("listening", ports)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    for s in servers.values():
        s.shutdown()


if __name__ == "__main__":
    main()
