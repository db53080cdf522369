"""Event notification bodies and signatures, written from the reference
documents (not from vodhook's C code), for the integration tests and the
benchmark."""
import hashlib
import json
import time


def tencent_new_file_upload(file_id, procedure_task_id="", source_context="",
                            media_url=None):
    return {
        "EventType": "NewFileUpload",
        "FileUploadEvent": {
            "FileId": file_id,
            "MediaBasicInfo": {
                "Name": "clip", "CreateTime": "2026-11-21T10:00:00Z",
                "Type": "mp4",
                "MediaUrl": media_url or "http://125676836723.vod2.myqcloud.com/x/%s/f.mp4" % file_id,
                "SourceInfo": {"SourceType": "ServerUpload",
                               "SourceContext": source_context},
            },
            "ProcedureTaskId": procedure_task_id,
        },
    }


def tencent_procedure(file_id, task_id, status, err_code=0, message=""):
    ev = {
        "EventType": "ProcedureStateChanged",
        "ProcedureStateChangeEvent": {
            "TaskId": task_id, "Status": status, "ErrCode": err_code,
            "Message": message, "FileId": file_id, "FileName": "clip",
            "FileUrl": "http://125676836723.vod2.myqcloud.com/x/%s/f.mp4" % file_id,
        },
    }
    if status == "FINISH":
        ev["ProcedureStateChangeEvent"]["MediaProcessResultSet"] = [{
            "Type": "Transcode",
            "TranscodeTask": {"Status": "SUCCESS" if err_code == 0 else "FAIL",
                              "ErrCode": err_code, "Message": message or "SUCCESS",
                              "Input": {"Definition": 20}},
        }]
    return ev


def tencent_sign(key, t):
    return hashlib.md5((key + str(t)).encode()).hexdigest()


def alibaba_event(event_type, video_id, status="success", extend=None,
                  event_time="2026-11-21T10:00:00Z", **extra):
    ev = {"EventTime": event_time, "EventType": event_type, "VideoId": video_id,
          "Status": status}
    if extend is not None:
        ev["Extend"] = extend
    ev.update(extra)
    return ev


def alibaba_headers(url, key, ts=None):
    ts = int(time.time()) if ts is None else ts
    sig = hashlib.md5(("%s|%d|%s" % (url, ts, key)).encode()).hexdigest()
    return {"X-VOD-TIMESTAMP": str(ts), "X-VOD-SIGNATURE": sig,
            "Content-Type": "application/json"}


def body(ev):
    return json.dumps(ev).encode()
