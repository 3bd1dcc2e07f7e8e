// A browser app on a second origin, in LATCHKEY_CORS_ORIGINS, using cookie mode as docs/browsers.md shows.
// The page's query names the server and the account; the results land in #log as JSON and in the title as "done".
const query = new URLSearchParams(location.search);
const server = query.get("server");
const results = {};

async function call(path, { method = "POST", body, bearer, csrf = true } = {}) {
  const headers = {};
  if (body) headers["Content-Type"] = "application/json";
  if (csrf) headers["X-Latchkey-CSRF"] = "1";
  if (bearer) headers["Authorization"] = `Bearer ${bearer}`;
  const response = await fetch(server + path, {
    method, headers, credentials: "include", body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

(async () => {
  try {
    const login = await call("/auth/login", { body: { email: query.get("email"), password: query.get("password") }, csrf: false });
    results.loginStatus = login.status;
    results.loginBodyHasRefreshToken = "refreshToken" in login.json;
    results.cookieVisibleToScript = document.cookie.includes("latchkey");
    const me = await call("/auth/me", { method: "GET", bearer: login.json.accessToken, csrf: false });
    results.meEmail = me.json && me.json.email;
    const withoutHeader = await call("/auth/refresh", { csrf: false });
    results.refreshWithoutCSRFStatus = withoutHeader.status;
    results.refreshWithoutCSRFError = withoutHeader.json && withoutHeader.json.error;
    const refresh = await call("/auth/refresh");
    results.refreshStatus = refresh.status;
    results.refreshBodyHasRefreshToken = "refreshToken" in refresh.json;
    results.newAccessToken = refresh.json.accessToken !== login.json.accessToken;
    const second = await call("/auth/refresh");
    results.secondRefreshStatus = second.status;
    const logout = await call("/auth/logout");
    results.logoutStatus = logout.status;
    const after = await call("/auth/refresh");
    results.refreshAfterLogoutStatus = after.status;
    results.refreshAfterLogoutError = after.json && after.json.error;
  } catch (error) {
    results.error = String(error);
  }
  document.getElementById("log").textContent = JSON.stringify(results, null, 2);
  document.title = "done";
})();
