-- Each thread (one connection each: run with -t N -c N) rotates its own session, starting from the
-- N refresh tokens in $TOKENS_FILE, one per line, and following each new token it is given.
local tokens = {}
for line in io.lines(os.getenv("TOKENS_FILE")) do tokens[#tokens + 1] = line end
local next_index = 1
function setup(thread)
    thread:set("token", tokens[next_index])
    next_index = next_index + 1
end
function request()
    return wrk.format("POST", "/auth/refresh", {["Content-Type"] = "application/json"}, '{"refreshToken":"' .. token .. '"}')
end
function response(status, headers, body)
    local fresh = body:match('"refreshToken":"([^"]+)"')
    if status == 200 and fresh then token = fresh end
end
