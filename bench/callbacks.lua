-- wrk script: unique, signed VOD callbacks. Environment (set by callbacks.sh):
--   VH_PROVIDER tencent|alibaba, VH_PATH, VH_TS, VH_SIG
local threads = {}
local counter = 0


function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  acked = 0
  other = 0
  prefix = string.format("%d-%d-%d", os.time(), id, math.random(1, 1e9))
  provider = os.getenv("VH_PROVIDER")
  path = os.getenv("VH_PATH")
  headers = { ["Content-Type"] = "application/json" }
  if provider == "alibaba" then
    headers["X-VOD-TIMESTAMP"] = os.getenv("VH_TS")
    headers["X-VOD-SIGNATURE"] = os.getenv("VH_SIG")
  end
end

function request()
  counter = counter + 1
  local fid = prefix .. "-" .. counter
  local body
  if provider == "alibaba" then
    body = '{"EventTime":"2026-11-21T10:00:00Z","EventType":"FileUploadComplete","VideoId":"'
      .. fid .. '","Size":1439213,"FileUrl":"http://bucket.oss-cn-shanghai.aliyuncs.com/' .. fid .. '.mp4"}'
  else
    body = '{"EventType":"NewFileUpload","FileUploadEvent":{"FileId":"' .. fid
      .. '","MediaBasicInfo":{"Name":"clip","Type":"mp4","MediaUrl":"http://1256.vod2.myqcloud.com/x/'
      .. fid .. '.mp4","SourceInfo":{"SourceType":"ServerUpload","SourceContext":""}},"ProcedureTaskId":"p-' .. fid .. '"}}'
  end
  return wrk.format("POST", path, headers, body)
end

function response(status, hdrs, body)
  if status == 200 then acked = acked + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local a, o = 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("acked")
    o = o + t:get("other")
  end
  io.write(string.format("RESULT requests=%d acked=%d rejected=%d seconds=%.2f rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f errors=%d\n",
    summary.requests, a, o, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
