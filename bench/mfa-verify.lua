-- Second steps of prepared sign-ins: each line of $CHALLENGES_FILE is "mfaToken code", good once. The lines are dealt to
-- the $THREADS threads in turn, and each thread sends its own in order.
local all = {}
for line in io.lines(os.getenv("CHALLENGES_FILE")) do all[#all + 1] = line end
local threads = tonumber(os.getenv("THREADS"))
local dealt = 0
function setup(thread)
    dealt = dealt + 1
    local mine = {}
    for i = dealt, #all, threads do mine[#mine + 1] = all[i] end
    thread:set("challenges", mine)
end
local sent = 0
function request()
    sent = sent + 1
    -- Past the last one the run sends a spent challenge again: a 401, counted as non-2xx.
    local token, code = (challenges[sent] or challenges[#challenges]):match("(%S+) (%S+)")
    return wrk.format("POST", "/auth/mfa/verify", {["Content-Type"] = "application/json"},
        '{"mfaToken":"' .. token .. '","code":"' .. code .. '"}')
end
