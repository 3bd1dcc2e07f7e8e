-- GET with the bearer token in $TOKEN (empty: no header).
local token = os.getenv("TOKEN") or ""
if token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
