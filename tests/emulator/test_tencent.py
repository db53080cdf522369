"""Tencent VOD + COS through the emulator, driven by curl and independently written signers."""
import hashlib
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emu_testlib import (Emulator, Receiver, cos_auth, crc64, md5hex, tc3_headers, tc_call, wait_for)  # noqa: E402

HOST_API = "vod.tencentcloudapi.com"


class TencentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rx = Receiver()
        cls.emu = Emulator("--tencent-callback-url", cls.rx.url)

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()
        cls.rx.close()

    def setUp(self):
        self.emu.reset()
        self.emu.ctl("config", {"tencent_callback_url": self.rx.url})
        self.rx.got.clear()
        self.tmp = self.emu.tmp

    def apply(self, **params):
        p = {"MediaType": "mp4", "MediaName": "clip"}
        p.update(params)
        r = tc_call(self.emu, "ApplyUpload", p)
        self.assertNotIn("Error", r, r)
        return r

    def cos_req(self, r, method, params=None, data=None, data_file=None, extra_headers=None, token=None, sk=None,
                sign_token=True, start=None):
        tc = r["TempCertificate"]
        host = "%s.cos.%s.myqcloud.com" % (r["StorageBucket"], r["StorageRegion"])
        path = r["MediaStoragePath"]
        hdrs = {"x-cos-security-token": tc["Token"] if token is None else token}
        signed = {"host": host}
        if sign_token:
            signed["x-cos-security-token"] = hdrs["x-cos-security-token"]
        for k, v in (extra_headers or {}).items():
            hdrs[k] = v
            signed[k.lower()] = v
        auth = cos_auth(tc["SecretId"], sk or tc["SecretKey"], method, path, params or {}, signed, start=start)
        hdrs["Authorization"] = auth
        qs = ""
        if params:
            qs = "?" + "&".join(k if v == "" else "%s=%s" % (k, v) for k, v in params.items())
        if data is not None and "Content-Type" not in hdrs:
            hdrs["Content-Type"] = None
        return self.emu.curl(method, host, path + qs, hdrs, data=data, data_file=data_file)

    def write(self, name, data):
        p = os.path.join(self.tmp, name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def test_simple_upload_with_procedure_push(self):
        data = os.urandom(300 * 1024 + 7)
        r = self.apply(Procedure="LongVideoPreset", SourceContext="ctx-123", SessionContext="sess-9")
        self.assertTrue(r["MediaStoragePath"].startswith("/"))
        code, h, body, rc, err = self.cos_req(r, "PUT", data_file=self.write("a.bin", data))
        self.assertEqual(code, 200, body)
        self.assertEqual(h["etag"], '"%s"' % md5hex(data))
        self.assertEqual(h["x-cos-hash-crc64ecma"], str(crc64(data)))
        c = tc_call(self.emu, "CommitUpload", {"VodSessionKey": r["VodSessionKey"]})
        self.assertIn("FileId", c)
        objs = self.emu.objects()
        o = objs[(r["StorageBucket"], r["MediaStoragePath"][1:])]
        self.assertEqual((o["size"], o["md5"]), (len(data), md5hex(data)))
        self.rx.wait(3)
        evs = self.rx.json()
        self.assertEqual([e["EventType"] for e in evs], ["NewFileUpload", "ProcedureStateChanged", "ProcedureStateChanged"])
        fu = evs[0]["FileUploadEvent"]
        self.assertEqual(fu["FileId"], c["FileId"])
        self.assertEqual(fu["MediaBasicInfo"]["SourceInfo"], {"SourceType": "ServerUpload", "SourceContext": "ctx-123"})
        self.assertTrue(fu["ProcedureTaskId"])
        self.assertEqual(evs[1]["ProcedureStateChangeEvent"]["Status"], "PROCESSING")
        fin = evs[2]["ProcedureStateChangeEvent"]
        self.assertEqual((fin["Status"], fin["TaskId"], fin["SessionContext"]), ("FINISH", fu["ProcedureTaskId"], "sess-9"))
        self.assertTrue(fin["MediaProcessResultSet"][0]["TranscodeTask"]["Output"]["Url"])
        self.assertEqual(self.emu.rejections(), [])
        # DescribeMediaInfos tells the truth
        d = tc_call(self.emu, "DescribeMediaInfos", {"FileIds": [c["FileId"], "404"]})
        self.assertEqual(d["MediaInfoSet"][0]["BasicInfo"]["Status"], "Normal")
        self.assertEqual(d["MediaInfoSet"][0]["MetaData"]["Size"], len(data))
        self.assertEqual(d["NotExistFileIdSet"], ["404"])
        cb = self.emu.ctl("callbacks")
        self.assertEqual(len(cb), 3)
        self.assertTrue(all(x["status"] == 200 for x in cb))

    def upload_with_procedure(self):
        r = self.apply(Procedure="p")
        code, _, body, _, _ = self.cos_req(r, "PUT", data_file=self.write("t.bin", os.urandom(4096)))
        self.assertEqual(code, 200, body)
        c = tc_call(self.emu, "CommitUpload", {"VodSessionKey": r["VodSessionKey"]})
        self.rx.wait(3)
        return c["FileId"], self.rx.json()[0]["FileUploadEvent"]["ProcedureTaskId"]

    def test_describe_task_detail(self):
        fid, tid = self.upload_with_procedure()
        d = tc_call(self.emu, "DescribeTaskDetail", {"TaskId": tid})
        self.assertEqual((d["TaskType"], d["Status"]), ("Procedure", "FINISH"))
        self.assertIsNone(d["PullUploadTask"])
        p = d["ProcedureTask"]
        self.assertEqual((p["TaskId"], p["FileId"], p["Status"]), (tid, fid, "FINISH"))
        self.assertEqual({x["TranscodeTask"]["Status"] for x in p["MediaProcessResultSet"]}, {"SUCCESS"})
        # The event and the lookup carry the same ProcedureTask.
        self.assertEqual(self.rx.json()[2]["ProcedureStateChangeEvent"]["MediaProcessResultSet"],
                         p["MediaProcessResultSet"])
        e = tc_call(self.emu, "DescribeTaskDetail", {"TaskId": "1250000000-Procedure-nonet1"})
        self.assertEqual(e["Error"]["Code"], "InvalidParameterValue.TaskId")

    def test_sub_applications(self):
        # A media lives in the SubAppId of its ApplyUpload; every later call must name it.
        sub = 1500000002
        r = self.apply(SubAppId=sub, MediaType="png")
        code, _, body, _, _ = self.cos_req(r, "PUT", data_file=self.write("s.png", os.urandom(2048)))
        self.assertEqual(code, 200, body)
        e = tc_call(self.emu, "CommitUpload", {"VodSessionKey": r["VodSessionKey"]})
        self.assertEqual(e["Error"]["Code"], "InvalidParameterValue.VodSessionKey")
        c = tc_call(self.emu, "CommitUpload", {"VodSessionKey": r["VodSessionKey"], "SubAppId": sub})
        self.assertIn("FileId", c)
        d = tc_call(self.emu, "DescribeMediaInfos", {"FileIds": [c["FileId"]]})
        self.assertEqual(d["NotExistFileIdSet"], [c["FileId"]])
        d = tc_call(self.emu, "DescribeMediaInfos", {"FileIds": [c["FileId"]], "SubAppId": sub})
        self.assertEqual(d["MediaInfoSet"][0]["BasicInfo"]["Category"], "Image")
        for action, extra in (("ApplyUpload", {"MediaType": "mp4"}), ("PullEvents", {}),
                              ("DescribeMediaInfos", {"FileIds": ["1"]})):
            e = tc_call(self.emu, action, dict(extra, SubAppId=1500000099))
            self.assertEqual(e["Error"]["Code"], "InvalidParameterValue.SubAppId", action)
        # DeleteMedia finds the media in its own sub-application only.
        e = tc_call(self.emu, "DeleteMedia", {"FileId": c["FileId"]})
        self.assertEqual(e["Error"]["Code"], "ResourceNotFound.FileNotExist")
        self.assertNotIn("Error", tc_call(self.emu, "DeleteMedia", {"FileId": c["FileId"], "SubAppId": sub}))


    def test_delete_media(self):
        # DeleteMedia (signed as every call): the media is gone, FileDeleted follows.
        fid, _ = self.upload_with_procedure()
        self.assertNotIn("Error", tc_call(self.emu, "DeleteMedia", {"FileId": fid}))
        self.rx.wait(4)
        ev = self.rx.json()[3]
        self.assertEqual(ev["EventType"], "FileDeleted")
        self.assertEqual(ev["FileDeleteEvent"]["FileIdSet"], [fid])
        self.assertEqual(ev["FileDeleteEvent"]["FileDeleteResultInfo"][0]["FileId"], fid)
        d = tc_call(self.emu, "DescribeMediaInfos", {"FileIds": [fid]})
        self.assertEqual(d["NotExistFileIdSet"], [fid])
        e = tc_call(self.emu, "DeleteMedia", {"FileId": fid})
        self.assertEqual(e["Error"]["Code"], "ResourceNotFound.FileNotExist")
        # The deletion event dropped by the fault; the legacy form.
        fid2, _ = self.upload_with_procedure()
        self.emu.ctl("config", {"tencent_legacy": True})
        self.emu.ctl("faults", {"callbacks": "drop_delete"})
        self.assertNotIn("Error", tc_call(self.emu, "DeleteMedia", {"FileId": fid2}))
        dropped = wait_for(lambda: [c for c in self.emu.ctl("callbacks") if c.get("dropped")],
                           what="the dropped FileDeleted")
        self.assertEqual(json.loads(dropped[0]["body"]),
                         {"version": "4.0", "eventType": "FileDeleted",
                          "data": {"status": 0, "message": "", "fileInfo": [{"fileId": fid2}]}})

    def test_processing_faults(self):
        # A failed transcode: FAIL with its error in the event and the lookup; the other transcode
        # succeeded, so DescribeMediaInfos lists one.
        self.emu.ctl("faults", {"processing": "fail"})
        fid, tid = self.upload_with_procedure()
        fin = self.rx.json()[2]["ProcedureStateChangeEvent"]
        failed = [x["TranscodeTask"] for x in fin["MediaProcessResultSet"] if x["TranscodeTask"]["Status"] == "FAIL"]
        self.assertEqual(len(failed), 1)
        self.assertEqual(failed[0]["ErrCodeExt"], "SourceFileError.ContentMalformed")
        d = tc_call(self.emu, "DescribeTaskDetail", {"TaskId": tid})
        self.assertEqual(d["ProcedureTask"]["MediaProcessResultSet"], fin["MediaProcessResultSet"])
        infos = tc_call(self.emu, "DescribeMediaInfos", {"FileIds": [fid]})
        self.assertEqual(len(infos["MediaInfoSet"][0]["TranscodeInfo"]["TranscodeSet"]), 1)
        # A task flow without a transcode: one snapshot task, no TranscodeInfo.
        self.rx.got.clear()
        self.emu.ctl("faults", {"processing": "snapshot"})
        fid, tid = self.upload_with_procedure()
        d = tc_call(self.emu, "DescribeTaskDetail", {"TaskId": tid})
        sets = d["ProcedureTask"]["MediaProcessResultSet"]
        self.assertEqual([(x["Type"], x["SnapshotByTimeOffsetTask"]["Status"]) for x in sets],
                         [("SnapshotByTimeOffset", "SUCCESS")])
        infos = tc_call(self.emu, "DescribeMediaInfos", {"FileIds": [fid]})
        self.assertIsNone(infos["MediaInfoSet"][0]["TranscodeInfo"])

    def test_multipart_upload(self):
        part = 1024 * 1024
        data = os.urandom(3 * part + 12345)
        r = self.apply()
        code, h, body, _, _ = self.cos_req(r, "POST", {"uploads": ""}, data=b"",
                                           extra_headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(code, 200, body)
        uid = body.decode().split("<UploadId>")[1].split("</UploadId>")[0]
        etags = []
        for i in range(4):
            chunk = data[i * part:(i + 1) * part]
            code, h, body, _, _ = self.cos_req(r, "PUT", {"partNumber": str(i + 1), "uploadId": uid},
                                               data_file=self.write("p%d" % i, chunk))
            self.assertEqual(code, 200, body)
            self.assertEqual(h["etag"], '"%s"' % md5hex(chunk))
            self.assertEqual(h["x-cos-hash-crc64ecma"], str(crc64(chunk)))
            etags.append(h["etag"])
        code, h, body, _, _ = self.cos_req(r, "GET", {"uploadId": uid})
        self.assertEqual(code, 200, body)
        self.assertEqual(body.count(b"<Part>"), 4)
        # wrong ETag is refused
        bad = "<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % "".join(
            "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (i + 1, '"00"' if i == 2 else e)
            for i, e in enumerate(etags))
        code, h, body, _, _ = self.cos_req(r, "POST", {"uploadId": uid}, data=bad,
                                           extra_headers={"Content-Type": "application/xml"})
        self.assertEqual(code, 400)
        self.assertIn(b"InvalidPart", body)
        xml = "<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % "".join(
            "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (i + 1, e.replace('"', "&quot;"))
            for i, e in enumerate(etags))
        code, h, body, _, _ = self.cos_req(r, "POST", {"uploadId": uid}, data=xml,
                                           extra_headers={"Content-Type": "application/xml"})
        self.assertEqual(code, 200, body)
        self.assertIn(b"<ETag>", body)
        self.assertTrue(body.startswith(b" "), body[:20])  # COS streams whitespace before the result
        self.assertEqual(h["x-cos-hash-crc64ecma"], str(crc64(data)))
        o = self.emu.objects()[(r["StorageBucket"], r["MediaStoragePath"][1:])]
        self.assertEqual((o["size"], o["md5"]), (len(data), md5hex(data)))
        c = tc_call(self.emu, "CommitUpload", {"VodSessionKey": r["VodSessionKey"]})
        self.rx.wait(1)
        self.assertEqual(self.rx.json()[0]["FileUploadEvent"]["FileId"], c["FileId"])
        parts = self.emu.calls("UploadPart")
        self.assertEqual(sum(p["bytes"] for p in parts), len(data))
        rej = self.emu.rejections()
        self.assertEqual([x["code"] for x in rej], ["InvalidPart"])
        self.assertIn("ETag mismatch for part 3", rej[0]["reason"])

    def test_corrupt_fault_and_crc64_headers_off(self):
        part = 1024 * 1024
        data = os.urandom(2 * part)
        r = self.apply()
        code, h, body, _, _ = self.cos_req(r, "POST", {"uploads": ""}, data=b"",
                                           extra_headers={"Content-Type": "application/octet-stream"})
        uid = body.decode().split("<UploadId>")[1].split("</UploadId>")[0]
        self.emu.ctl("faults", {"kind": "UploadPart", "nth": 2, "corrupt": True})
        etags = []
        for i in range(2):
            chunk = data[i * part:(i + 1) * part]
            code, h, body, _, _ = self.cos_req(r, "PUT", {"partNumber": str(i + 1), "uploadId": uid},
                                               data_file=self.write("p%d" % i, chunk))
            self.assertEqual(code, 200, body)
            etags.append(h["etag"])
            stored = chunk if i == 0 else bytes([chunk[0] ^ 0xFF]) + chunk[1:]
            # ETag and CRC are those of the bytes stored, not of those sent
            self.assertEqual((h["etag"], h["x-cos-hash-crc64ecma"]), ('"%s"' % md5hex(stored), str(crc64(stored))))
        self.assertEqual([c.get("fault") for c in self.emu.calls("UploadPart")], [None, "corrupt"])
        # the completed object is what was stored; with the fault it differs again, and says so
        self.emu.ctl("faults", {"kind": "CompleteMultipartUpload", "nth": 1, "corrupt": True})
        xml = "<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % "".join(
            "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (i + 1, e) for i, e in enumerate(etags))
        code, h, body, _, _ = self.cos_req(r, "POST", {"uploadId": uid}, data=xml,
                                           extra_headers={"Content-Type": "application/xml"})
        self.assertEqual(code, 200, body)
        obj = bytes([data[0] ^ 0xFF]) + data[1:part] + bytes([data[part] ^ 0xFF]) + data[part + 1:]
        self.assertEqual(h["x-cos-hash-crc64ecma"], str(crc64(obj)))
        o = self.emu.objects()[(r["StorageBucket"], r["MediaStoragePath"][1:])]
        self.assertEqual(o["md5"], md5hex(obj))
        # a store that does not send the header
        self.emu.ctl("config", {"crc64_headers": False})
        code, h, body, _, _ = self.cos_req(r, "PUT", data_file=self.write("a.bin", data[:1000]))
        self.assertEqual(code, 200, body)
        self.assertNotIn("x-cos-hash-crc64ecma", h)

    def test_rejections(self):
        # TC3: wrong signature
        payload = json.dumps({"MediaType": "mp4"}).encode()
        h = tc3_headers("AKIDemu", "wrong-secret", "ApplyUpload", payload)
        code, _, body, _, _ = self.emu.curl("POST", HOST_API, "/", h, payload)
        self.assertEqual(code, 200)
        self.assertEqual(json.loads(body)["Response"]["Error"]["Code"], "AuthFailure.SignatureFailure")
        # TC3: stale timestamp
        h = tc3_headers("AKIDemu", "emusecret", "ApplyUpload", payload, ts=int(time.time()) - 900)
        code, _, body, _, _ = self.emu.curl("POST", HOST_API, "/", h, payload)
        self.assertEqual(json.loads(body)["Response"]["Error"]["Code"], "AuthFailure.SignatureExpire")
        # TC3: wrong credential-scope date / service
        h = tc3_headers("AKIDemu", "emusecret", "ApplyUpload", payload, date="2019-02-25")
        code, _, body, _, _ = self.emu.curl("POST", HOST_API, "/", h, payload)
        self.assertEqual(json.loads(body)["Response"]["Error"]["Code"], "AuthFailure.SignatureFailure")
        h = tc3_headers("AKIDemu", "emusecret", "ApplyUpload", payload, service="cvm")
        self.emu.curl("POST", HOST_API, "/", h, payload)
        # TC3: signed for another Host
        h = tc3_headers("AKIDemu", "emusecret", "ApplyUpload", payload, host="vod.intl.tencentcloudapi.com")
        code, _, body, _, _ = self.emu.curl("POST", HOST_API, "/", h, payload)
        self.assertEqual(json.loads(body)["Response"]["Error"]["Code"], "AuthFailure.SignatureFailure")
        # but the intl host itself works (Host as received)
        r = tc_call(self.emu, "ApplyUpload", {"MediaType": "mp4"}, host="vod.intl.tencentcloudapi.com")
        self.assertIn("VodSessionKey", r)
        # COS: wrong token, wrong signature, expired q-sign-time
        f = self.write("x.bin", b"hello")
        code, _, body, _, _ = self.cos_req(r, "PUT", data_file=f, token="bogus-token")
        self.assertEqual(code, 403, body)
        code, _, body, _, _ = self.cos_req(r, "PUT", data_file=f, sk="not-the-key")
        self.assertEqual(code, 403)
        self.assertIn(b"SignatureDoesNotMatch", body)
        code, _, body, _, _ = self.cos_req(r, "PUT", data_file=f, start=int(time.time()) - 7200)
        self.assertEqual(code, 403)
        self.assertIn(b"Request has expired", body)
        # token need not be signed (cos-nodejs-sdk-v5 behaviour)
        code, _, body, _, _ = self.cos_req(r, "PUT", data_file=f, sign_token=False)
        self.assertEqual(code, 200, body)
        rej = self.emu.rejections()
        reasons = [x["reason"] for x in rej]
        self.assertEqual(len(rej), 8, reasons)
        self.assertIn("signature mismatch", reasons[0])
        self.assertIn("expected string-to-sign", reasons[0])
        self.assertIn("stale timestamp: skew 9", reasons[1])
        self.assertIn("credential scope date 2019-02-25", reasons[2])
        self.assertIn("service is 'cvm'", reasons[3])
        self.assertIn("host:vod.tencentcloudapi.com", reasons[4])
        self.assertIn("security token mismatch", reasons[5])
        self.assertIn("signature mismatch", reasons[6])
        self.assertIn("expected HttpString", reasons[6])
        self.assertIn("stale timestamp", reasons[7])
        self.assertEqual([x["service"] for x in rej], ["vod-tencent"] * 5 + ["cos"] * 3)

    def test_v1_signature_form_post(self):
        import base64
        import hashlib as hl
        import hmac
        import urllib.parse
        params = {"Action": "ApplyUpload", "Version": "2018-07-17", "Region": "ap-guangzhou",
                  "Timestamp": str(int(time.time())), "Nonce": "0", "SecretId": "AKIDemu",
                  "SignatureMethod": "HmacSHA256", "RequestClient": "test", "MediaType": "mp4",
                  "MediaName": "a b+c"}
        s = "POST" + HOST_API + "/?" + "&".join("%s=%s" % (k, params[k]) for k in sorted(params))
        params["Signature"] = base64.b64encode(hmac.new(b"emusecret", s.encode(), hl.sha256).digest()).decode()
        body = urllib.parse.urlencode(params)
        code, _, out, _, _ = self.emu.curl("POST", HOST_API, "/", {"Content-Type": "application/x-www-form-urlencoded"},
                                           body)
        r = json.loads(out)["Response"]
        self.assertIn("VodSessionKey", r, r)
        params["Signature"] = "AAAA"
        code, _, out, _, _ = self.emu.curl("POST", HOST_API, "/", {"Content-Type": "application/x-www-form-urlencoded"},
                                           urllib.parse.urlencode(params))
        self.assertEqual(json.loads(out)["Response"]["Error"]["Code"], "AuthFailure.SignatureFailure")

    def test_pull_mode_and_legacy(self):
        self.emu.ctl("config", {"tencent_event_mode": "pull"})
        r = self.apply(SourceContext="pull-ctx")
        self.assertEqual(self.cos_req(r, "PUT", data_file=self.write("s", b"x" * 100))[0], 200)
        c = tc_call(self.emu, "CommitUpload", {"VodSessionKey": r["VodSessionKey"]})
        p = tc_call(self.emu, "PullEvents", {})
        self.assertEqual(len(p["EventSet"]), 1)
        ev = p["EventSet"][0]
        self.assertEqual(ev["FileUploadEvent"]["FileId"], c["FileId"])
        self.assertEqual(ev["FileUploadEvent"]["MediaBasicInfo"]["SourceInfo"]["SourceContext"], "pull-ctx")
        self.assertEqual(tc_call(self.emu, "ConfirmEvents", {"EventHandles": [ev["EventHandle"]]}).get("Error"), None)
        bad = tc_call(self.emu, "ConfirmEvents", {"EventHandles": [ev["EventHandle"]]})
        self.assertIn("Error", bad)
        self.assertEqual(self.rx.got, [])
        # legacy v2 format + Sign/T, PUSH
        self.emu.ctl("config", {"tencent_event_mode": "push", "tencent_legacy": True, "tencent_sign_key": "k3y"})
        r = self.apply(SourceContext="legacy")
        self.assertEqual(self.cos_req(r, "PUT", data_file=self.write("s", b"y" * 10))[0], 200)
        c = tc_call(self.emu, "CommitUpload", {"VodSessionKey": r["VodSessionKey"]})
        self.rx.wait(1)
        ev = self.rx.json()[0]
        self.assertEqual((ev["version"], ev["eventType"]), ("4.0", "NewFileUpload"))
        self.assertEqual((ev["data"]["fileId"], ev["data"]["sourceContext"]), (c["FileId"], "legacy"))
        self.assertEqual(ev["Sign"], hashlib.md5(("k3y%d" % ev["T"]).encode()).hexdigest())
        self.assertGreater(ev["T"], time.time())

    def test_faults(self):
        part = 1024 * 1024
        r = self.apply()
        code, h, body, _, _ = self.cos_req(r, "POST", {"uploads": ""}, data=b"",
                                           extra_headers={"Content-Type": "application/octet-stream"})
        uid = body.decode().split("<UploadId>")[1].split("</UploadId>")[0]
        self.emu.ctl("faults", {"kind": "UploadPart", "nth": 2, "status": 503})
        self.emu.ctl("faults", {"kind": "UploadPart", "nth": 3, "drop_after_bytes": 65536})
        f = self.write("p", os.urandom(part))
        results = [self.cos_req(r, "PUT", {"partNumber": "1", "uploadId": uid}, data_file=f) for _ in range(4)]
        self.assertEqual(results[0][0], 200)
        self.assertEqual(results[1][0], 503)
        self.assertIn(b"<Code>ServiceUnavailable</Code>", results[1][2])
        self.assertIn(results[2][0], (0, 100))  # dropped connection: no final status
        self.assertNotEqual(results[2][3], 0)
        self.assertEqual(results[3][0], 200)  # faults are one-shot
        drops = [c for c in self.emu.calls("UploadPart") if c.get("fault", "").startswith("drop")]
        self.assertEqual(len(drops), 1)
        # credential expiry after N storage requests -> COS ExpiredToken
        self.emu.ctl("faults", {"expire_credentials_after_requests": 1})
        self.assertEqual(self.cos_req(r, "PUT", {"partNumber": "2", "uploadId": uid}, data_file=f)[0], 200)
        code, _, body, _, _ = self.cos_req(r, "PUT", {"partNumber": "3", "uploadId": uid}, data_file=f)
        self.assertEqual(code, 400)
        self.assertIn(b"ExpiredToken", body)
        # callbacks dropped -> DescribeMediaInfos still answers
        r2 = self.apply()
        self.emu.ctl("faults", {"callbacks": "drop"})
        self.assertEqual(self.cos_req(r2, "PUT", data_file=self.write("q", b"z" * 5))[0], 200)
        c = tc_call(self.emu, "CommitUpload", {"VodSessionKey": r2["VodSessionKey"]})
        wait_for(lambda: any(x.get("dropped") for x in self.emu.ctl("callbacks")), what="dropped callback record")
        self.assertEqual(self.rx.got, [])
        d = tc_call(self.emu, "DescribeMediaInfos", {"FileIds": [c["FileId"]]})
        self.assertEqual(d["MediaInfoSet"][0]["FileId"], c["FileId"])
        # API fault: ApplyUpload fails once with HTTP 500
        self.emu.ctl("faults", {"kind": "ApplyUpload", "nth": 1, "status": 500})
        payload = json.dumps({"MediaType": "mp4"}).encode()
        code, _, body, _, _ = self.emu.curl("POST", HOST_API, "/", tc3_headers("AKIDemu", "emusecret", "ApplyUpload",
                                                                               payload), payload)
        self.assertEqual(code, 500)
        self.assertIn("VodSessionKey", self.apply())
        # API fault: the next ApplyUpload is held 400 ms, then answered
        self.emu.ctl("faults", {"kind": "ApplyUpload", "nth": 1, "delay_ms": 400})
        t0 = time.time()
        self.assertIn("VodSessionKey", self.apply())
        self.assertGreaterEqual(time.time() - t0, 0.4)
        held = [c for c in self.emu.calls("ApplyUpload") if c["t"] >= t0]
        self.assertEqual([c.get("delayed_ms") for c in held], [400])
        t1 = time.time()
        self.apply()
        self.assertNotIn("delayed_ms", [c for c in self.emu.calls("ApplyUpload") if c["t"] >= t1][0])

    def test_callback_duplicate_reverse_and_raw_event(self):
        self.emu.ctl("faults", {"callbacks": "reverse"})
        r = self.apply(Procedure="p")
        self.cos_req(r, "PUT", data_file=self.write("s", b"1"))
        tc_call(self.emu, "CommitUpload", {"VodSessionKey": r["VodSessionKey"]})
        self.rx.wait(3)
        self.assertEqual([e["EventType"] for e in self.rx.json()],
                         ["ProcedureStateChanged", "ProcedureStateChanged", "NewFileUpload"])
        self.rx.got.clear()
        self.emu.ctl("faults", {"callbacks": "duplicate"})
        raw = b'{"EventType":"FileDeleted","FileDeleteEvent":{"FileIdSet":["1"]}}'
        import urllib.request
        urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%d/_emu/tencent/event" % self.emu.http,
                                                      data=raw, method="POST")).read()
        self.rx.wait(2)
        self.assertEqual([g["body"] for g in self.rx.got], [raw, raw])

    def test_plain_http_and_chunked(self):
        r = self.apply()
        tc = r["TempCertificate"]
        host = "%s.cos.%s.myqcloud.com" % (r["StorageBucket"], r["StorageRegion"])
        data = os.urandom(2 * 1024 * 1024 + 3)
        f = self.write("c", data)
        auth = cos_auth(tc["SecretId"], tc["SecretKey"], "PUT", r["MediaStoragePath"], {}, {"host": host})
        code, h, body, _, err = self.emu.curl("PUT", host, r["MediaStoragePath"],
                                              {"Authorization": auth, "x-cos-security-token": tc["Token"],
                                               "Transfer-Encoding": "chunked", "Expect": "100-continue"},
                                              data_file=f, https=False)
        self.assertEqual(code, 200, (body, err))
        o = self.emu.objects()[(r["StorageBucket"], r["MediaStoragePath"][1:])]
        self.assertEqual(o["md5"], md5hex(data))
        # per-connection rate limit: 2 MiB at 4 MiB/s takes >= ~0.5 s
        self.emu.ctl("faults", {"rate_limit_bps": 4 * 1024 * 1024})
        t0 = time.time()
        code, h, body, _, err = self.emu.curl("PUT", host, r["MediaStoragePath"],
                                              {"Authorization": auth, "x-cos-security-token": tc["Token"]},
                                              data_file=f, https=False)
        self.assertEqual(code, 200, (body, err))
        self.assertGreater(time.time() - t0, 0.45)


if __name__ == "__main__":
    unittest.main()
