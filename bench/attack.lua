-- Wrong passwords for 1,000 emails in turn, all from this one client IP; counts the answers by status.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    next_account = math.random(1000)
    unauthorized, limited = 0, 0
end

function request()
    next_account = next_account % 1000 + 1
    local body = string.format('{"email":"victim-%d@example.com","password":"wrong-guess-%d"}', next_account, math.random(1000000))
    return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
    if status == 401 then unauthorized = unauthorized + 1 elseif status == 429 then limited = limited + 1 end
end

function done(summary, latency, requests)
    local a, b = 0, 0
    for _, thread in ipairs(threads) do
        a = a + thread:get("unauthorized")
        b = b + thread:get("limited")
    end
    io.write(string.format("STATUS 401=%d 429=%d\n", a, b))
end
