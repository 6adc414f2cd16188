-- wrk script of the HTTP ingest benchmark (loadtests/http-ingest.sh): every request appends one
-- batch of log entries to one topic, topics taken round robin per wrk thread.
--
--   wrk -s ingest.lua URL -- <json|ndjson> <api-key> <topics> <entries-per-request> <message-bytes> <run-tag>
--
-- json   POST /v1/logs/{topic}/batch  with a JSON array (application/json)
-- ndjson POST /v1/bulk/logs           with one line per entry (application/x-ndjson)
-- Bodies are built once per thread, so wrk measures the server, not Lua string building.
-- done() prints one JSON line (latencies in microseconds) the benchmark script parses.

local bodies, paths = {}, {}
local content_type, key, topics
local next_topic = 0

function init(args)
  local mode, batch, size, tag = args[1], tonumber(args[4]), tonumber(args[5]), args[6]
  key, topics = args[2], tonumber(args[3])
  local message = string.rep("m", size)
  for t = 1, topics do
    local topic = "bench." .. tag .. "." .. mode .. "." .. t
    local lines = {}
    for i = 1, batch do
      if mode == "json" then
        lines[i] = '{"severity":"info","message":"' .. message .. '"}'
      else
        lines[i] = '{"topic":"' .. topic .. '","severity":"info","message":"' .. message .. '"}'
      end
    end
    if mode == "json" then
      bodies[t] = "[" .. table.concat(lines, ",") .. "]"
      paths[t] = "/v1/logs/" .. topic .. "/batch"
    else
      bodies[t] = table.concat(lines, "\n") .. "\n"
      paths[t] = "/v1/bulk/logs"
    end
  end
  content_type = mode == "json" and "application/json" or "application/x-ndjson"
  next_topic = math.random(topics) - 1
end

function request()
  next_topic = next_topic % topics + 1
  return wrk.format("POST", paths[next_topic],
    { ["Content-Type"] = content_type, ["Authorization"] = "Bearer " .. key }, bodies[next_topic])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"non2xx":%d,"socket_errors":%d,"p50_us":%d,"p75_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(75), latency:percentile(95), latency:percentile(99), latency.max))
end
