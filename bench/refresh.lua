-- Each thread (one connection each: run with -t N -c N) rotates its own sessions in turn, following each new token it
-- is given. They start from the refresh tokens in $TOKENS_FILE, one per line, $TOKENS_PER_CONNECTION (default 1) to
-- each thread.
local tokens = {}
for line in io.lines(os.getenv("TOKENS_FILE")) do tokens[#tokens + 1] = line end
local per_connection = tonumber(os.getenv("TOKENS_PER_CONNECTION") or "1")
local next_index = 1
function setup(thread)
    local sessions = {}
    for i = 1, per_connection do
        sessions[i] = tokens[next_index]
        next_index = next_index + 1
    end
    thread:set("sessions", sessions)
end
local turn = 0
function request()
    turn = turn % #sessions + 1
    return wrk.format("POST", "/auth/refresh", {["Content-Type"] = "application/json"}, '{"refreshToken":"' .. sessions[turn] .. '"}')
end
function response(status, headers, body)
    local fresh = body:match('"refreshToken":"([^"]+)"')
    if status == 200 and fresh then sessions[turn] = fresh end
end
