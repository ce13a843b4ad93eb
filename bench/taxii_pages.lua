-- wrk script for bench/taxii.sh: GET /objects/ pages of 100 starting at a
-- random point of the collection (a `next` cursor is the date_added to start
-- after, so any position can be asked for), with the TAXII headers.
local path, token, lo, hi = os.getenv("PK_PATH"), os.getenv("PK_TOKEN"),
    tonumber(os.getenv("PK_LO")), tonumber(os.getenv("PK_HI"))
math.randomseed(os.time())
request = function()
    local c = lo + math.random(0, hi - lo)
    local p = string.format("%s?limit=100&next=c1.%x", path, c)
    return wrk.format("GET", p, {
        ["Accept"] = "application/taxii+json;version=2.1",
        ["Authorization"] = "Bearer " .. token,
    })
end
local bad = 0
response = function(status, headers, body)
    if status ~= 200 then bad = bad + 1 end
end
done = function(summary, latency, requests)
    io.write(string.format("pages/s %.0f  p50 %.2f ms  p99 %.2f ms  max %.2f ms  non-200 %d\n",
        summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
        latency:percentile(99) / 1000, latency.max / 1000,
        summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
