#!/usr/bin/env python3
"""A real SMTP server on loopback for Latchkey's tests (aiosmtpd).

Each accepted message is written to --maildir as JSON: envelope sender, recipients and the raw data.
--fail-first N answers the first N messages with --fail-code; --always-code answers every message with it.
--auth USER:PASS requires AUTH (PLAIN or LOGIN) before MAIL.
Prints "ready" once it listens; stops on SIGTERM.
"""
import argparse
import json
import pathlib
import signal
import threading
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Handler:
    def __init__(self, maildir, fail_first, fail_code, always_code):
        self.maildir = pathlib.Path(maildir)
        self.fail_first = fail_first
        self.fail_code = fail_code
        self.always_code = always_code
        self.seen = 0

    async def handle_DATA(self, server, session, envelope):
        self.seen += 1
        if self.always_code:
            return f"{self.always_code} Refused by test server"
        if self.seen <= self.fail_first:
            return f"{self.fail_code} Try again later"
        message = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "data": envelope.original_content.decode("utf-8", "replace"),
            "auth": session.authenticated,
        }
        name = f"{len(list(self.maildir.iterdir())):05d}-{uuid.uuid4()}.json"
        (self.maildir / name).write_text(json.dumps(message))
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--fail-code", type=int, default=451)
    parser.add_argument("--always-code", type=int, default=0)
    parser.add_argument("--auth")
    args = parser.parse_args()
    pathlib.Path(args.maildir).mkdir(parents=True, exist_ok=True)

    options = {}
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login.decode() == user and auth_data.password.decode() == password
            return AuthResult(success=ok)

        options = {"authenticator": authenticator, "auth_required": True, "auth_require_tls": False}

    handler = Handler(args.maildir, args.fail_first, args.fail_code, args.always_code)
    controller = Controller(handler, hostname="127.0.0.1", port=args.port, **options)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    controller.start()
    print("ready", flush=True)
    while not stop.wait(0.2):
        pass
    controller.stop()


if __name__ == "__main__":
    main()
