#!/usr/bin/env python3
"""Latchkey in a real browser: headless Chromium (Debian's chromium and chromium-driver) driven by selenium.

Starts a real SMTP server (Tests/Support/smtp_server.py), `latchkey serve` (the built debug binary, SQLite, cookie
mode on) and a static page on a second loopback origin, then:
  (a) registers through the API, opens the verification link from the mailbox, confirms, sees success, logs in;
  (b) opens a reset link, submits a weak password and sees the policy message, submits a good one, logs in with it;
  (c) the page on the second origin logs in with fetch(credentials: 'include'), cannot see the refresh cookie from
      script, refreshes through it (and is refused without the CSRF header), and logs out.
Screenshots of every page go to a temporary directory, named in the output. Ends with "N passed, M failed".
"""
import base64
import email
import functools
import http.server
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
BINARY = pathlib.Path(os.environ.get("LATCHKEY_BINARY", ROOT / ".build/debug/latchkey"))
PASSWORD = "Tr1cky!pass"
results = {"passed": 0, "failed": 0}


def check(name, condition, detail=""):
    results["passed" if condition else "failed"] += 1
    print(("ok     " if condition else "FAILED ") + name + ("" if condition else f"  ({detail})"), flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, body=None):
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"} if body is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else {}
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else {}


def wait_for_mail(maildir, to, count=1, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        mails = [json.loads(p.read_text()) for p in sorted(maildir.iterdir())]
        mine = [m for m in mails if to in m["to"]]
        if len(mine) >= count:
            return mine[count - 1]["data"]
        time.sleep(0.1)
    raise TimeoutError(f"no mail number {count} to {to}")


def link_in(raw, path):
    """The link to `path` from the text part of a mail (base64 MIME parts, as the server writes them)."""
    message = email.message_from_string(raw)
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            text = base64.b64decode(part.get_payload()).decode()
            start = text.rfind("http", 0, text.index(path))
            end = start
            while end < len(text) and not text[end].isspace():
                end += 1
            return text[start:end]
    raise ValueError("no text part")


class Services:
    def __init__(self, directory):
        self.directory = pathlib.Path(directory)
        self.maildir = self.directory / "mail"
        self.maildir.mkdir()
        self.processes = []
        self.static = None

    def start(self):
        smtp_port, server_port, app_port = free_port(), free_port(), free_port()
        smtp = subprocess.Popen([sys.executable, str(ROOT / "Tests/Support/smtp_server.py"), "--port", str(smtp_port),
                                 "--maildir", str(self.maildir)], stdout=subprocess.PIPE, text=True)
        self.processes.append(smtp)
        assert "ready" in smtp.stdout.readline()
        self.app_origin = f"http://127.0.0.1:{app_port}"
        environment = dict(os.environ, LATCHKEY_PORT=str(server_port), LATCHKEY_DATABASE_URL=f"sqlite://{self.directory}/latchkey.sqlite",
                           LATCHKEY_BCRYPT_COST="4", LATCHKEY_LOG_LEVEL="warning", LATCHKEY_MAIL_TRANSPORT="smtp",
                           LATCHKEY_SMTP_HOST="127.0.0.1", LATCHKEY_SMTP_PORT=str(smtp_port), LATCHKEY_MAIL_POLL_INTERVAL="50",
                           LATCHKEY_MAIL_FROM="Latchkey <auth@latchkey.test>", LATCHKEY_REFRESH_COOKIE="on",
                           LATCHKEY_CORS_ORIGINS=self.app_origin, LATCHKEY_PRODUCT_NAME="Latchkey Browser Test")
        self.processes.append(subprocess.Popen([str(BINARY), "serve"], env=environment))
        self.base = f"http://127.0.0.1:{server_port}"
        # The default app URL writes the loopback listen address as localhost (a WebAuthn relying party needs a name).
        self.link_base = f"http://localhost:{server_port}"
        for _ in range(400):
            try:
                if call(self.base, "GET", "/ready")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        handler = functools.partial(QuietHandler, directory=str(pathlib.Path(__file__).parent))
        self.static = http.server.ThreadingHTTPServer(("127.0.0.1", app_port), handler)
        threading.Thread(target=self.static.serve_forever, daemon=True).start()

    def stop(self):
        if self.static:
            self.static.shutdown()
        for process in reversed(self.processes):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=420,900"]:
        options.add_argument(argument)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def main():
    shots = pathlib.Path(tempfile.mkdtemp(prefix="latchkey-screenshots-"))
    with tempfile.TemporaryDirectory(prefix="latchkey-browser-") as directory:
        services = Services(directory)
        driver = None
        try:
            services.start()
            driver = browser()
            wait = WebDriverWait(driver, 15)

            def submit():
                # Waits for the posted page to replace this one, so the checks below never read the old page.
                button = driver.find_element(By.CSS_SELECTOR, "form button")
                button.click()
                wait.until(expected_conditions.staleness_of(button))

            def shot(name):
                path = shots / f"{name}.png"
                driver.save_screenshot(str(path))
                print(f"       screenshot: {path}", flush=True)

            # (a) verification link from the real mailbox, confirmed in the browser
            email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
            status, _ = call(services.base, "POST", "/auth/register", {"email": email, "password": PASSWORD, "name": "Ada <b>Lovelace</b>"})
            check("register answers 201", status == 201, status)
            link = link_in(wait_for_mail(services.maildir, email), "/auth/verify-email?token=")
            check("the mail links to the server's own page", link.startswith(services.link_base + "/auth/verify-email?token="), link)
            driver.get(link)
            check("the verification page has a button", driver.find_element(By.CSS_SELECTOR, "form button").text == "Confirm my email address")
            check("the stylesheet applies (CSP allows it)", driver.find_element(By.TAG_NAME, "main").value_of_css_property("max-width") == "448px")
            shot("a1-verify-email")
            check("opening the link logs nobody in yet", call(services.base, "POST", "/auth/login", {"email": email, "password": PASSWORD})[0] == 403)
            submit()
            wait.until(expected_conditions.title_contains("Email address confirmed"))
            body = driver.find_element(By.TAG_NAME, "body").text
            check("confirming shows success, the name escaped", "Thank you, Ada <b>Lovelace</b>. Your email address is confirmed" in body, body)
            shot("a2-verify-email-done")
            check("login works after confirming", call(services.base, "POST", "/auth/login", {"email": email, "password": PASSWORD})[0] == 200)
            driver.back()
            submit()
            wait.until(expected_conditions.presence_of_element_located((By.ID, "errors")))
            check("a used link says so and offers a new mail", "invalid, used or expired" in driver.find_element(By.ID, "errors").text
                  and driver.find_element(By.ID, "email").is_displayed())
            shot("a3-verify-email-used")

            # (b) reset link: a weak password is refused with the policy's message, a good one works
            status, _ = call(services.base, "POST", "/auth/forgot-password", {"email": email})
            check("forgot-password answers 202", status == 202, status)
            link = link_in(wait_for_mail(services.maildir, email, count=2), "/auth/reset-password?token=")
            driver.get(link)
            shot("b1-reset-password")
            for field in ("newPassword", "confirmPassword"):
                driver.find_element(By.ID, field).send_keys("password")
            submit()
            wait.until(expected_conditions.presence_of_element_located((By.ID, "errors")))
            errors = driver.find_element(By.ID, "errors").text
            check("a weak password shows the policy's messages", "must contain a digit" in errors and "too common" in errors, errors)
            shot("b2-reset-password-weak")
            for field in ("newPassword", "confirmPassword"):
                driver.find_element(By.ID, field).send_keys("Brand!new42")
            driver.find_element(By.ID, "confirmPassword").send_keys("x")
            submit()
            wait.until(expected_conditions.presence_of_element_located((By.ID, "errors")))
            check("passwords that differ are refused", "do not match" in driver.find_element(By.ID, "errors").text)
            for field in ("newPassword", "confirmPassword"):
                driver.find_element(By.ID, field).send_keys("Brand!new42")
            submit()
            wait.until(expected_conditions.title_contains("Password changed"))
            shot("b3-reset-password-done")
            check("login with the new password works", call(services.base, "POST", "/auth/login", {"email": email, "password": "Brand!new42"})[0] == 200)
            check("the old password is refused", call(services.base, "POST", "/auth/login", {"email": email, "password": PASSWORD})[0] == 401)

            # (c) a browser app on a second origin in cookie mode
            query = urllib.parse.urlencode({"server": services.base, "email": email, "password": "Brand!new42"})
            driver.get(f"{services.app_origin}/app.html?{query}")
            WebDriverWait(driver, 20).until(expected_conditions.title_is("done"))
            outcome = json.loads(driver.find_element(By.ID, "log").text)
            shot("c1-cookie-mode-app")
            print("       " + json.dumps(outcome), flush=True)
            check("the app logs in cross-origin", outcome.get("loginStatus") == 200, outcome)
            check("the login body holds no refresh token", outcome.get("loginBodyHasRefreshToken") is False, outcome)
            check("document.cookie cannot see the refresh token", outcome.get("cookieVisibleToScript") is False, outcome)
            check("the access token works", outcome.get("meEmail") == email, outcome)
            check("a refresh without X-Latchkey-CSRF is refused",
                  (outcome.get("refreshWithoutCSRFStatus"), outcome.get("refreshWithoutCSRFError")) == (403, "CSRF_REJECTED"), outcome)
            check("refresh through the cookie works", outcome.get("refreshStatus") == 200 and outcome.get("newAccessToken") is True, outcome)
            check("the refresh body holds no refresh token", outcome.get("refreshBodyHasRefreshToken") is False, outcome)
            check("the rotated cookie refreshes again", outcome.get("secondRefreshStatus") == 200, outcome)
            check("logout answers 204", outcome.get("logoutStatus") == 204, outcome)
            check("after logout the cookie is gone",
                  (outcome.get("refreshAfterLogoutStatus"), outcome.get("refreshAfterLogoutError")) == (400, "VALIDATION_ERROR"), outcome)
        except Exception as error:  # a step that could not run is a failure, with its reason
            check("the browser run completed", False, repr(error))
        finally:
            if driver:
                driver.quit()
            services.stop()
    print(f"screenshots in {shots}")
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 0 if results["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
