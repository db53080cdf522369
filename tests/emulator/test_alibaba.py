"""Alibaba VOD + OSS through the emulator, driven by curl and independently written signers."""
import base64
import hashlib
import hmac
import json
import os
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emu_testlib import (Emulator, Receiver, ali_call, crc64, http_date, md5hex, oss_v1_auth, wait_for)  # noqa: E402

API = "vod.cn-shanghai.aliyuncs.com"


def oss_v4_auth(ak, sk, method, bucket, key, headers, region, t):
    dt = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))
    hs = {k.lower(): v.strip() for k, v in headers.items()
          if k.lower().startswith("x-oss-") or k.lower() in ("content-type", "content-md5")}
    canon = "%s\n%s\n\n%s\n\nUNSIGNED-PAYLOAD" % (
        method, urllib.parse.quote("/%s/%s" % (bucket, key), safe="/-_.~"),
        "".join("%s:%s\n" % (k, hs[k]) for k in sorted(hs)))
    scope = "%s/%s/oss/aliyun_v4_request" % (dt[:8], region)
    sts = "OSS4-HMAC-SHA256\n%s\n%s\n%s" % (dt, scope, hashlib.sha256(canon.encode()).hexdigest())
    k = ("aliyun_v4" + sk).encode()
    for m in (dt[:8], region, "oss", "aliyun_v4_request"):
        k = hmac.new(k, m.encode(), hashlib.sha256).digest()
    return "OSS4-HMAC-SHA256 Credential=%s/%s,Signature=%s" % (ak, scope, hmac.new(k, sts.encode(), hashlib.sha256).hexdigest())


class AlibabaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rx = Receiver()
        cls.emu = Emulator("--alibaba-auth-key", "AuthKey123", "--alibaba-callback-url", cls.rx.url + "?default=1")

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()
        cls.rx.close()

    def setUp(self):
        self.emu.reset()
        self.emu.ctl("config", {"alibaba_auth_key": "AuthKey123", "alibaba_callback_url": self.rx.url + "?default=1"})
        self.rx.got.clear()

    def write(self, name, data):
        p = os.path.join(self.emu.tmp, name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def create(self, **kw):
        p = {"Title": "t", "FileName": "movie.mp4",
             "UserData": json.dumps({"MessageCallback": {"CallbackURL": self.rx.url}, "Extend": {"localId": "L1"}})}
        p.update(kw)
        code, r = ali_call(self.emu, "CreateUploadVideo", p)
        self.assertEqual(code, 200, r)
        return r

    @staticmethod
    def decode(r):
        addr = json.loads(base64.b64decode(r["UploadAddress"]))
        auth = json.loads(base64.b64decode(r["UploadAuth"]))
        return addr, auth

    def oss(self, addr, auth, method, sub="", data=None, data_file=None, token=None, sk=None, date=None,
            ctype="", v4=False):
        host = "%s.%s" % (addr["Bucket"], addr["Endpoint"].split("://", 1)[1])
        key = addr["FileName"]
        h = {"Date": date or http_date(), "x-oss-security-token": auth["SecurityToken"] if token is None else token}
        if ctype:
            h["Content-Type"] = ctype
        if v4:
            h["x-oss-date"] = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            h["x-oss-content-sha256"] = "UNSIGNED-PAYLOAD"
            h["Authorization"] = oss_v4_auth(auth["AccessKeyId"], sk or auth["AccessKeySecret"], method,
                                             addr["Bucket"], key, h, auth["Region"], time.time())
        else:
            h["Authorization"] = oss_v1_auth(auth["AccessKeyId"], sk or auth["AccessKeySecret"], method,
                                             addr["Bucket"], key, h, sub)
        if not ctype:
            h["Content-Type"] = None
        return self.emu.curl(method, host, "/" + urllib.parse.quote(key) + sub, h, data=data, data_file=data_file)

    def check_sig(self, g):
        hd = {k.lower(): v for k, v in g["headers"].items()}
        url = "http://127.0.0.1:%d%s" % (self.rx.port, g["path"])
        want = hashlib.md5(("%s|%s|%s" % (url, hd["x-vod-timestamp"], "AuthKey123")).encode()).hexdigest()
        self.assertEqual(hd["x-vod-signature"], want)
        self.assertLess(abs(int(hd["x-vod-timestamp"]) - time.time()), 60)

    def test_simple_upload_with_transcode(self):
        r = self.create(TemplateGroupId="tg-1")
        addr, auth = self.decode(r)
        self.assertEqual(addr["Endpoint"], "https://oss-cn-shanghai.aliyuncs.com")
        self.assertEqual(auth["Region"], "cn-shanghai")
        self.assertTrue(auth["ExpireUTCTime"].endswith("Z"))
        code, r2 = ali_call(self.emu, "GetVideoInfo", {"VideoId": r["VideoId"]})
        self.assertEqual(r2["Video"]["Status"], "Uploading")
        data = os.urandom(123457)
        code, h, body, _, err = self.oss(addr, auth, "PUT", data_file=self.write("v", data))
        self.assertEqual(code, 200, (body, err))
        self.assertEqual(h["etag"], '"%s"' % md5hex(data).upper())
        self.assertEqual(h["x-oss-hash-crc64ecma"], str(crc64(data)))
        o = self.emu.objects()[(addr["Bucket"], addr["FileName"])]
        self.assertEqual((o["size"], o["md5"]), (len(data), md5hex(data)))
        self.rx.wait(4)
        evs = self.rx.json()
        self.assertEqual([e["EventType"] for e in evs], ["FileUploadComplete", "StreamTranscodeComplete",
                                                          "StreamTranscodeComplete", "TranscodeComplete"])
        self.assertEqual((evs[0]["VideoId"], evs[0]["Size"]), (r["VideoId"], len(data)))
        self.assertEqual(json.loads(evs[0]["Extend"]), {"localId": "L1"})
        self.assertEqual(len(evs[3]["StreamInfos"]), 2)
        for g in self.rx.got:
            self.assertEqual(g["path"], "/cb")
            self.check_sig(g)
        code, r2 = ali_call(self.emu, "GetVideoInfo", {"VideoId": r["VideoId"]})
        self.assertEqual(r2["Video"]["Status"], "Normal")
        self.assertEqual(self.emu.rejections(), [])
        self.assertEqual([c["auth"] for c in self.emu.calls("PutObject")], ["OSS"])

    def test_processing_failure_fault(self):
        import urllib.error
        with self.assertRaises(urllib.error.HTTPError) as cm:
            self.emu.ctl("faults", {"processing": "maybe"})
        self.assertEqual(cm.exception.code, 400)
        self.emu.ctl("faults", {"processing": "fail"})
        r = self.create(WorkflowId="wf-1")
        addr, auth = self.decode(r)
        self.assertEqual(self.oss(addr, auth, "PUT", data_file=self.write("f", b"abc"))[0], 200)
        self.rx.wait(3)
        evs = self.rx.json()
        self.assertEqual([(e["EventType"], e["Status"]) for e in evs],
                         [("FileUploadComplete", "success"), ("StreamTranscodeComplete", "fail"),
                          ("TranscodeComplete", "fail")])
        self.assertEqual(evs[2]["StreamInfos"][0]["ErrorCode"], evs[2]["ErrorCode"])
        code, v = ali_call(self.emu, "GetVideoInfo", {"VideoId": r["VideoId"]})
        self.assertEqual(v["Video"]["Status"], "TranscodeFail")
        # one-shot: the next video is transcoded
        self.rx.got.clear()
        r = self.create(TemplateGroupId="tg-1")
        addr, auth = self.decode(r)
        self.assertEqual(self.oss(addr, auth, "PUT", data_file=self.write("g", b"abc"))[0], 200)
        self.rx.wait(4)
        self.assertEqual(self.rx.json()[3]["Status"], "success")
        code, v = ali_call(self.emu, "GetVideoInfo", {"VideoId": r["VideoId"]})
        self.assertEqual(v["Video"]["Status"], "Normal")

    def test_delete_video_and_image(self):
        r = self.create()
        addr, auth = self.decode(r)
        code, _, body, _, err = self.oss(addr, auth, "PUT", data_file=self.write("d", os.urandom(1000)))
        self.assertEqual(code, 200, (body, err))
        self.rx.wait(1)
        code, d = ali_call(self.emu, "DeleteVideo", {"VideoIds": r["VideoId"] + ",nope"})
        self.assertEqual(code, 200, d)
        self.assertEqual((d["NonExistVideoIds"], d["ForbiddenVideoIds"]), (["nope"], []))
        self.rx.wait(2)
        ev = self.rx.json()[1]
        self.assertEqual((ev["EventType"], ev["MediaId"], ev["Status"], ev["DeleteType"], ev["MediaType"]),
                         ("DeleteMediaComplete", r["VideoId"], "success", "all", "video"))
        self.check_sig(self.rx.got[1])
        code, v = ali_call(self.emu, "GetVideoInfo", {"VideoId": r["VideoId"]})
        self.assertEqual((code, v["Code"]), (404, "InvalidVideo.NotFound"))
        code, e = ali_call(self.emu, "DeleteVideo", {})
        self.assertEqual((code, e["Code"]), (400, "MissingVideoIds"))
        code, i = ali_call(self.emu, "CreateUploadImage", {"ImageType": "default", "ImageExt": "png"})
        self.assertEqual(code, 200, i)
        code, d = ali_call(self.emu, "DeleteImage", {"DeleteImageType": "ImageId", "ImageIds": i["ImageId"]})
        self.assertEqual(code, 200, d)
        code, d = ali_call(self.emu, "DeleteImage", {"DeleteImageType": "ImageId", "ImageIds": i["ImageId"]})
        self.assertEqual((code, d["Code"]), (404, "InvalidImage.NotFound"))
        code, d = ali_call(self.emu, "DeleteImage", {"DeleteImageType": "Other"})
        self.assertEqual((code, d["Code"]), (400, "InvalidParameter"))
        self.assertEqual(len(self.rx.got), 2)  # DeleteImage sends no event
        self.assertEqual(self.emu.rejections(), [])

    def test_image_and_attached_media_info_and_deletion(self):
        code, i = ali_call(self.emu, "CreateUploadImage", {"ImageType": "default", "ImageExt": "png"})
        self.assertEqual(code, 200, i)
        code, d = ali_call(self.emu, "GetImageInfo", {"ImageId": i["ImageId"]})
        self.assertEqual(code, 200, d)
        self.assertEqual((d["ImageInfo"]["ImageId"], d["ImageInfo"]["Status"]), (i["ImageId"], "Uploading"))
        code, e = ali_call(self.emu, "GetImageInfo", {"ImageId": "nope"})
        self.assertEqual((code, e["Code"]), (404, "InvalidImage.NotFound"))
        code, e = ali_call(self.emu, "GetImageInfo", {})
        self.assertEqual((code, e["Code"]), (400, "MissingImageId"))
        code, a = ali_call(self.emu, "CreateUploadAttachedMedia", {"BusinessType": "subtitle", "MediaExt": "srt"})
        self.assertEqual(code, 200, a)
        code, d = ali_call(self.emu, "GetAttachedMediaInfo", {"MediaIds": a["MediaId"] + ",nope"})
        self.assertEqual(code, 200, d)
        self.assertEqual([(x["MediaId"], x["Status"], x["Type"]) for x in d["AttachedMediaList"]],
                         [(a["MediaId"], "Uploading", "subtitle")])
        self.assertEqual(d["NonExistMediaIds"], ["nope"])
        # GetVideoInfo and DeleteVideo do not know an attached media's id.
        code, e = ali_call(self.emu, "GetVideoInfo", {"VideoId": a["MediaId"]})
        self.assertEqual((code, e["Code"]), (404, "InvalidVideo.NotFound"))
        code, d = ali_call(self.emu, "DeleteAttachedMedia", {"MediaIds": a["MediaId"]})
        self.assertEqual((code, d["NonExistMediaIds"]), (200, []))
        code, d = ali_call(self.emu, "DeleteAttachedMedia", {"MediaIds": a["MediaId"]})
        self.assertEqual((code, d["NonExistMediaIds"]), (200, [a["MediaId"]]))
        code, d = ali_call(self.emu, "GetAttachedMediaInfo", {"MediaIds": a["MediaId"]})
        self.assertEqual((code, d["AttachedMediaList"], d["NonExistMediaIds"]), (200, [], [a["MediaId"]]))
        for action in ("DeleteAttachedMedia", "GetAttachedMediaInfo"):
            code, e = ali_call(self.emu, action, {})
            self.assertEqual((code, e["Code"]), (400, "MissingMediaIds"), action)
            code, e = ali_call(self.emu, action, {"MediaIds": ",".join("m%d" % n for n in range(21))})
            self.assertEqual((code, e["Code"]), (400, "InvalidParameter"), action)
        self.assertEqual(len(self.rx.got), 0)  # no event follows these calls
        self.assertEqual(self.emu.rejections(), [])

    def test_multipart_with_refresh(self):
        r = self.create(UserData="")
        addr, auth = self.decode(r)
        code, h, body, _, _ = self.oss(addr, auth, "POST", "?uploads", data=b"")
        self.assertEqual(code, 200, body)
        uid = body.decode().split("<UploadId>")[1].split("</UploadId>")[0]
        part = 200 * 1024
        data = os.urandom(3 * part + 999)
        self.emu.ctl("faults", {"expire_credentials_after_requests": 2})
        etags = {}
        n = 1
        refreshed = 0
        while n <= 4:
            chunk = data[(n - 1) * part:n * part]
            code, h, body, _, _ = self.oss(addr, auth, "PUT", "?partNumber=%d&uploadId=%s" % (n, uid),
                                           data_file=self.write("p%d" % n, chunk))
            if code == 403 and b"SecurityTokenExpired" in body:
                code2, rr = ali_call(self.emu, "RefreshUploadVideo", {"VideoId": r["VideoId"]})
                self.assertEqual(code2, 200, rr)
                a2, auth = self.decode(rr)
                self.assertEqual(a2, addr)
                refreshed += 1
                continue
            self.assertEqual(code, 200, body)
            etags[n] = h["etag"]
            n += 1
        self.assertEqual(refreshed, 1)
        xml = "<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % "".join(
            "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (k, etags[k]) for k in sorted(etags))
        code, h, body, _, _ = self.oss(addr, auth, "POST", "?uploadId=%s" % uid, data=xml, ctype="application/xml")
        self.assertEqual(code, 200, body)
        o = self.emu.objects()[(addr["Bucket"], addr["FileName"])]
        self.assertEqual((o["size"], o["md5"]), (len(data), md5hex(data)))
        self.rx.wait(1)
        g = self.rx.got[0]
        self.assertEqual(g["path"], "/cb?default=1")  # no MessageCallback -> configured URL
        self.check_sig(g)
        self.assertEqual(self.rx.json()[0]["EventType"], "FileUploadComplete")
        rej = self.emu.rejections()
        self.assertEqual([(x["code"], x["status"]) for x in rej], [("SecurityTokenExpired", 403)])
        self.assertEqual(sum(c["bytes"] for c in self.emu.calls("UploadPart")), len(data))

    def test_attached_media_and_app_ids(self):
        ud = json.dumps({"MessageCallback": {"CallbackURL": self.rx.url}, "Extend": {"vh": "u1"}})
        code, r = ali_call(self.emu, "CreateUploadAttachedMedia", {
            "BusinessType": "subtitle", "MediaExt": "vtt", "Title": "subs", "UserData": ud,
            "AppId": "app-2000001"})
        self.assertEqual(code, 200, r)
        self.assertTrue(r["MediaId"] and r["MediaURL"] and r["FileURL"])
        addr, auth = self.decode(r)
        data = b"WEBVTT\n\n00:00.000 --> 00:01.000\nhello\n"
        code, _, body, _, err = self.oss(addr, auth, "PUT", data_file=self.write("s.vtt", data))
        self.assertEqual(code, 200, (body, err))
        self.rx.wait(1)
        ev = self.rx.json()[0]
        self.assertEqual((ev["EventType"], ev["AttachedMediaId"], ev["Size"], ev["Status"]),
                         ("AttachedMediaUploadComplete", r["MediaId"], len(data), "success"))
        self.assertEqual(json.loads(ev["Extend"]), {"vh": "u1"})
        for p, why in (({"MediaExt": "vtt"}, "MissingBusinessType"),
                       ({"BusinessType": "watermark", "MediaExt": "vtt"}, "InvalidParameter"),
                       ({"BusinessType": "logo", "MediaExt": "png"}, "InvalidParameter"),
                       ({"BusinessType": "watermark", "MediaExt": "png", "AppId": "app-99"}, "InvalidParameter")):
            code, e = ali_call(self.emu, "CreateUploadAttachedMedia", p)
            self.assertEqual((code, e["Code"]), (400, why), p)
        code, e = ali_call(self.emu, "CreateUploadVideo", {"Title": "t", "FileName": "a.mp4", "AppId": "app-3"})
        self.assertEqual((code, e["Code"]), (400, "InvalidParameter"))

    def test_rejections(self):
        from emu_testlib import ali_rpc_query
        code, r = ali_call(self.emu, "CreateUploadVideo", {"Title": "t", "FileName": "a.mp4"}, secret="wrong")
        self.assertEqual((code, r["Code"]), (400, "SignatureDoesNotMatch"))
        code, r = ali_call(self.emu, "CreateUploadVideo", {"Title": "t", "FileName": "a.mp4"}, ts=time.time() - 3600)
        self.assertEqual((code, r["Code"]), (400, "InvalidTimeStamp.Expired"))
        q = ali_rpc_query("LTAIemu", "emusecret", "CreateUploadVideo", {"Title": "t", "FileName": "a.mp4"})
        self.assertEqual(self.emu.curl("GET", API, "/?" + q)[0], 200)
        code, _, body, _, _ = self.emu.curl("GET", API, "/?" + q)
        self.assertEqual((code, json.loads(body)["Code"]), (400, "SignatureNonceUsed"))
        code, r = ali_call(self.emu, "CreateUploadVideo", {"Title": "t", "FileName": "noext"})
        self.assertEqual(r["Code"], "InvalidFileName.Extension")
        code, r = ali_call(self.emu, "GetVideoInfo", {"VideoId": "nope"})
        self.assertEqual((code, r["Code"]), (404, "InvalidVideo.NotFound"))
        r = self.create()
        addr, auth = self.decode(r)
        f = self.write("x", b"hello")
        code, _, body, _, _ = self.oss(addr, auth, "PUT", data_file=f, token="wrong-token")
        self.assertEqual(code, 403)
        self.assertIn(b"InvalidSecurityToken", body)
        code, _, body, _, _ = self.oss(addr, auth, "PUT", data_file=f, sk="wrong")
        self.assertEqual(code, 403)
        self.assertIn(b"<StringToSign>", body)
        code, _, body, _, _ = self.oss(addr, auth, "PUT", data_file=f, date=http_date(time.time() - 3600))
        self.assertEqual(code, 403)
        self.assertIn(b"RequestTimeTooSkewed", body)
        rej = self.emu.rejections()
        self.assertEqual([x["code"] for x in rej], ["SignatureDoesNotMatch", "InvalidTimeStamp.Expired",
                                                    "SignatureNonceUsed", "InvalidSecurityToken",
                                                    "SignatureDoesNotMatch", "RequestTimeTooSkewed"])
        self.assertIn("expected string-to-sign 'GET&%2F&AccessKeyId", rej[0]["reason"])
        self.assertIn("stale timestamp: skew 3", rej[1]["reason"])
        self.assertIn("security token mismatch", rej[3]["reason"])
        self.assertIn("stale timestamp", rej[5]["reason"])
        # the API-level validation error is an accepted call, not a rejection
        self.assertEqual([c.get("error") for c in self.emu.calls("CreateUploadVideo")],
                         [None, "InvalidFileName.Extension", None])

    def test_v4_upload_image_and_xml_format(self):
        code, r = ali_call(self.emu, "CreateUploadImage", {"ImageType": "cover", "ImageExt": "jpg",
                                                           "UserData": json.dumps({"Extend": "raw-string"})})
        self.assertEqual(code, 200, r)
        addr, auth = self.decode(r)
        data = os.urandom(5000)
        code, _, body, _, _ = self.oss(addr, auth, "PUT", data_file=self.write("i", data), v4=True,
                                       ctype="image/jpeg")
        self.assertEqual(code, 200, body)
        self.rx.wait(1)
        ev = self.rx.json()[0]
        self.assertEqual((ev["EventType"], ev["ImageId"], ev["Extend"]), ("ImageUploadComplete", r["ImageId"], "raw-string"))
        self.assertEqual([c["auth"] for c in self.emu.calls("PutObject")], ["OSS4-HMAC-SHA256"])
        code, _, body, _, _ = self.oss(addr, auth, "PUT", data_file=self.write("i", data), v4=True, sk="bad",
                                       ctype="image/jpeg")
        self.assertEqual(code, 403)
        self.assertIn("V4", self.emu.rejections()[0]["reason"])
        # default Format is XML
        from emu_testlib import ali_rpc_query
        q = ali_rpc_query("LTAIemu", "emusecret", "GetVideoInfo", {"VideoId": "x"}).replace("Format=JSON&", "")
        # Format was signed, so re-sign without it
        import emu_testlib
        p = dict(urllib.parse.parse_qsl(q))
        p.pop("Signature")
        p.pop("Format", None)
        cq = "&".join("%s=%s" % (emu_testlib.enc(k), emu_testlib.enc(v)) for k, v in sorted(p.items()))
        sig = base64.b64encode(hmac.new(b"emusecret&", ("GET&%2F&" + emu_testlib.enc(cq)).encode(),
                                        hashlib.sha1).digest()).decode()
        code, h, body, _, _ = self.emu.curl("GET", API, "/?" + cq + "&Signature=" + emu_testlib.enc(sig))
        self.assertEqual(code, 404)
        self.assertTrue(body.startswith(b"<?xml"), body)
        self.assertIn(b"<Code>InvalidVideo.NotFound</Code>", body)

    def test_upload_media_by_url_and_dropped_callbacks(self):
        data = os.urandom(70000)
        self.rx.files["/src/movie.mp4"] = data
        url = "http://127.0.0.1:%d/src/movie.mp4" % self.rx.port
        code, r = ali_call(self.emu, "UploadMediaByURL", {
            "UploadURLs": urllib.parse.quote(url, safe=""),
            "UserData": json.dumps({"MessageCallback": {"CallbackURL": self.rx.url}, "Extend": {"k": 1}})})
        self.assertEqual(code, 200, r)
        job = r["UploadJobs"][0]
        self.assertEqual(job["SourceURL"], url)
        self.rx.wait(2)
        evs = self.rx.json()
        self.assertEqual([e["EventType"] for e in evs], ["UploadByURLComplete", "FileUploadComplete"])
        self.assertEqual((evs[0]["JobId"], evs[0]["Status"], evs[0]["Size"]), (job["JobId"], "success", str(len(data))))
        vid = evs[0]["VideoId"]
        objs = [o for o in self.emu.objects().values() if o["size"] == len(data)]
        self.assertEqual(objs[0]["md5"], md5hex(data))
        # dropped callbacks: GetVideoInfo still tells the truth
        self.rx.got.clear()
        self.emu.ctl("faults", {"callbacks": "drop"})
        r = self.create()
        addr, auth = self.decode(r)
        self.assertEqual(self.oss(addr, auth, "PUT", data_file=self.write("d", b"abc"))[0], 200)
        wait_for(lambda: any(c.get("dropped") for c in self.emu.ctl("callbacks")), what="dropped callback")
        code, v = ali_call(self.emu, "GetVideoInfo", {"VideoId": r["VideoId"]})
        self.assertEqual((v["Video"]["Status"], v["Video"]["Size"]), ("Normal", 3))
        self.assertEqual(self.rx.got, [])
        self.assertEqual(vid in [m["id"] for m in self.emu.ctl("media")], True)

    def test_get_url_upload_infos(self):
        # The documented shape (API reference, doc-detail/106830): the jobs
        # of JobIds (or UploadURLs) in URLUploadInfoList, the unknown ones in
        # NonExists; a pull runs PENDING -> DOWNLOADING -> SUCCESS | FAIL.
        data = os.urandom(5000)
        self.rx.files["/src/a.mp4"] = data
        good = "http://127.0.0.1:%d/src/a.mp4" % self.rx.port
        bad = "http://127.0.0.1:%d/src/missing.mp4" % self.rx.port
        ud = json.dumps({"Extend": {"vh": "x"}})
        self.emu.ctl("faults", {"callbacks": "drop", "repeat": True})
        code, r = ali_call(self.emu, "UploadMediaByURL", {
            "UploadURLs": ",".join(urllib.parse.quote(u, safe="") for u in (good, bad)), "UserData": ud})
        self.assertEqual(code, 200, r)
        jobs = {j["SourceURL"]: j["JobId"] for j in r["UploadJobs"]}
        ids = [jobs[good], jobs[bad], "f" * 32]

        def infos():
            code, r = ali_call(self.emu, "GetURLUploadInfos", {"JobIds": ",".join(ids)})
            self.assertEqual(code, 200, r)
            return r
        wait_for(lambda: {j["Status"] for j in infos()["URLUploadInfoList"]} == {"SUCCESS", "FAIL"},
                 what="both pulls to end")
        r = infos()
        self.assertEqual(r["NonExists"], ["f" * 32])
        self.assertTrue(r["RequestId"])
        by_id = {j["JobId"]: j for j in r["URLUploadInfoList"]}
        ok, ko = by_id[jobs[good]], by_id[jobs[bad]]
        vid = ok["MediaId"]
        self.assertEqual((ok["Status"], ok["ErrorCode"], ok["ErrorMessage"], ok["FileSize"], ok["UploadURL"]),
                         ("SUCCESS", "200", "Success", str(len(data)), good))
        self.assertEqual(ok["UserData"], ud)
        for k in ("CreationTime", "CompleteTime"):
            self.assertRegex(ok[k], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual([m["job_id"] for m in self.emu.ctl("media") if m["id"] == vid], [jobs[good]])
        self.assertEqual((ko["Status"], ko["ErrorCode"], ko["UploadURL"]), ("FAIL", "URLInvalidError", bad))
        self.assertNotIn("MediaId", ko)
        # GetVideoInfo knows the pulled media; the callbacks were all dropped.
        code, v = ali_call(self.emu, "GetVideoInfo", {"VideoId": vid})
        self.assertEqual((code, v["Video"]["Size"]), (200, len(data)))
        cbs = self.emu.ctl("callbacks")
        self.assertTrue(cbs)
        self.assertTrue(all(c.get("dropped") for c in cbs), cbs)
        self.assertEqual(self.rx.got, [])
        # By URL; the answer of each call is in /_emu/calls; the jobs in /_emu/url_jobs.
        code, r = ali_call(self.emu, "GetURLUploadInfos", {"UploadURLs": urllib.parse.quote(bad, safe="")})
        self.assertEqual([j["JobId"] for j in r["URLUploadInfoList"]], [jobs[bad]])
        calls = [c for c in self.emu.ctl("calls") if c["action"] == "GetURLUploadInfos"]
        self.assertEqual(calls[-1]["answer"], {jobs[bad]: "FAIL"})
        self.assertEqual({j["JobId"] for j in self.emu.ctl("url_jobs")}, {jobs[good], jobs[bad]})
        # Errors: neither parameter, more than 10 ids.
        code, r = ali_call(self.emu, "GetURLUploadInfos", {})
        self.assertEqual((code, r["Code"]), (400, "MissingParameter"))
        code, r = ali_call(self.emu, "GetURLUploadInfos", {"JobIds": ",".join("j%d" % i for i in range(11))})
        self.assertEqual((code, r["Code"]), (400, "InvalidParameter"))

    def test_callback_retry_on_non_200(self):
        bad = Receiver(status=500)
        try:
            r = self.create(UserData=json.dumps({"MessageCallback": {"CallbackURL": bad.url}}))
            addr, auth = self.decode(r)
            self.assertEqual(self.oss(addr, auth, "PUT", data_file=self.write("d", b"abc"))[0], 200)
            bad.wait(3, timeout=10)
            time.sleep(1.5)  # the documented policy is exactly 3 attempts: make sure no 4th arrives
            self.assertEqual(len(bad.got), 3)
        finally:
            bad.close()


if __name__ == "__main__":
    unittest.main()
