"""Schemathesis auth hook for scripts/schemathesis: a fresh access token of the fuzzing user, fetched again whenever
a request answers 401 (the fuzzer logs its own sessions out now and then) and every few seconds."""
import json
import os
import urllib.request

import schemathesis


@schemathesis.auth(refresh_interval=5)
class LatchkeyLogin:
    def get(self, case, context):
        body = json.dumps({"email": os.environ["FUZZ_EMAIL"], "password": os.environ["FUZZ_PASSWORD"]}).encode()
        request = urllib.request.Request(os.environ["FUZZ_BASE"] + "/auth/login", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)["accessToken"]

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
