-- Registrations of new accounts: every request a new email.
-- Seeded by the clock: the warm-up and the measured run must not register the same emails.
math.randomseed(os.time())
local counter = 0
local prefix = tostring(math.random(1, 1e9))
function setup(thread) thread:set("id", tostring(math.random(1, 1e9))) end
function request()
    counter = counter + 1
    local body = string.format('{"email":"b%s-%s-%d@example.com","password":"Tr1cky!pass","name":"Bench"}', prefix, id or "0", counter)
    return wrk.format("POST", "/auth/register", {["Content-Type"] = "application/json"}, body)
end
