#!/usr/bin/env python3
"""A real SMTP server on loopback for Latchkey's tests (aiosmtpd).

Each accepted message is written to --maildir as JSON: envelope sender, recipients and the raw data.
--fail-first N answers the first N messages with --fail-code; --always-code answers every message with it.
--auth USER:PASS requires AUTH (PLAIN or LOGIN) before MAIL.
--starttls DIR or --implicit-tls DIR makes a self-signed certificate for localhost, writes it to DIR/cert.pem
(the client's trust root) and offers STARTTLS (required) or speaks TLS from the first byte.
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
            "tls": server.transport.get_extra_info("ssl_object") is not None,
        }
        name = f"{len(list(self.maildir.iterdir())):05d}-{uuid.uuid4()}.json"
        (self.maildir / name).write_text(json.dumps(message))
        return "250 OK"


def tls_context(directory):
    import datetime
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--fail-code", type=int, default=451)
    parser.add_argument("--always-code", type=int, default=0)
    parser.add_argument("--auth")
    parser.add_argument("--starttls")
    parser.add_argument("--implicit-tls")
    args = parser.parse_args()
    pathlib.Path(args.maildir).mkdir(parents=True, exist_ok=True)

    options = {}
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login.decode() == user and auth_data.password.decode() == password
            return AuthResult(success=ok)

        options = {"authenticator": authenticator, "auth_required": True, "auth_require_tls": False}

    if args.starttls:
        options.update(tls_context=tls_context(args.starttls), require_starttls=True)
    if args.implicit_tls:
        options.update(ssl_context=tls_context(args.implicit_tls))

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
