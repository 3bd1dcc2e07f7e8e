-- Logins of prepared accounts: $EMAIL with $PASSWORD, or with $ACCOUNTS = N the emails string.format($EMAIL, 1..N) in turn.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local accounts = tonumber(os.getenv("ACCOUNTS") or "0")
local email, password = os.getenv("EMAIL"), os.getenv("PASSWORD")

if accounts == 0 then
    wrk.body = string.format('{"email":"%s","password":"%s"}', email, password)
else
    local next_account = math.random(accounts)
    function request()
        next_account = next_account % accounts + 1
        return wrk.format(nil, nil, nil, string.format('{"email":"%s","password":"%s"}', string.format(email, next_account), password))
    end
end
