#!/usr/bin/env python3
"""Writes Sources/LatchkeyServer/Resources/openapi.json, the OpenAPI 3.1 document served at /openapi.json.

Edit this file, run it, commit both; `--check` fails when the file is not its output. The Swift tests (OpenAPITests)
hold the document to the code: the routes the router serves, and every error code with LatchkeyAPI's status.
"""
import json
import pathlib
import sys

ERRORS = {
    "VALIDATION_ERROR": 400, "INVALID_JSON": 400, "EMAIL_ALREADY_REGISTERED": 409, "INVALID_CREDENTIALS": 401,
    "EMAIL_NOT_VERIFIED": 403, "ACCOUNT_DISABLED": 403, "TOKEN_MISSING": 401, "TOKEN_EXPIRED": 401,
    "TOKEN_INVALID": 401, "INVALID_REFRESH_TOKEN": 401, "REFRESH_TOKEN_REUSED": 401,
    "INVALID_OR_EXPIRED_TOKEN": 400, "FORBIDDEN": 403, "NOT_FOUND": 404, "METHOD_NOT_ALLOWED": 405,
    "PAYLOAD_TOO_LARGE": 413, "UNSUPPORTED_MEDIA_TYPE": 415, "CSRF_REJECTED": 403, "RATE_LIMITED": 429, "INTERNAL_ERROR": 500,
    "SERVICE_UNAVAILABLE": 503, "INVALID_MFA_CODE": 401, "INVALID_MFA_TOKEN": 401, "MFA_ALREADY_ENABLED": 409, "MFA_REQUIRED": 403,
    "REAUTHENTICATION_REQUIRED": 403, "PASSKEY_INVALID": 400, "PASSKEY_ALREADY_REGISTERED": 409, "LAST_SIGN_IN_METHOD": 409,
}


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def string(**extra):
    return {"type": "string", **extra}


def obj(required, **properties):
    return {"type": "object", "required": required, "properties": properties}


EMAIL_RULE = ("Trimmed first. An RFC 5321 mailbox in dot-atom form: local part at most 64 bytes with no <>()[]\\,;:\" or spaces and no leading, "
              "trailing or doubled dot; a domain of at least two LDH labels or an IDN; at most 254 bytes in all.")
PASSWORD_RULE = ("8+ characters with a letter, a digit and a symbol; at most 72 UTF-8 bytes (maxLength counts characters, so fewer "
                 "characters may already be too many bytes); no NUL or control characters; not a common password. Compared in Unicode NFC.")
NAME_RULE = ("Trimmed and NFC-normalised first, then 1 to 100 characters (grapheme clusters); no control, format, line- or "
             "paragraph-separator characters.")

SCHEMAS = {
    "ErrorCode": {"type": "string", "enum": list(ERRORS)},
    "FieldError": obj(["field", "message"], field=string(), message=string()),
    "Error": {
        **obj(["success", "error", "message"], success={"const": False}, error=ref("ErrorCode"), message=string(),
              details={"type": "array", "items": ref("FieldError"), "description": "Only for VALIDATION_ERROR."}),
        "description": "The body of every error response. Never contains a stack trace, SQL, a password, a token or a hash.",
    },
    "User": obj(["id", "email", "name", "role", "emailVerified", "createdAt", "updatedAt"],
                id=string(format="uuid", description="Lower-case UUID; equals the access token's sub."),
                email=string(format="idn-email", maxLength=254,
                             description="The stored form: trimmed, lower-cased, Unicode NFC, the domain IDNA-encoded (u@bücher.example is u@xn--bcher-kva.example)."),
                name=string(), role=string(enum=["user", "admin"]), emailVerified={"type": "boolean"},
                createdAt=string(format="date-time"), updatedAt=string(format="date-time")),
    "Amr": {"type": "array", "items": string(enum=["pwd", "otp", "recovery", "hwk", "email", "fed", "mfa"]),
            "description": "How the session signed in (RFC 8176), in the order of use, mfa last. A refresh keeps it."},
    "TokenPair": obj(["accessToken", "tokenType", "expiresIn", "refreshExpiresIn", "user", "amr"],
                     accessToken=string(description="JWT with kid; claims iss, aud, sub, sid, role, iat, exp, jti, amr and auth_time "
                                                    "(integer times; amr and auth_time say how and when the session signed in, and a "
                                                    "refresh keeps both)."),
                     refreshToken=string(description="Opaque, 256 bits, URL-safe. Rotated on every refresh. Absent in cookie mode "
                                                     "(LATCHKEY_REFRESH_COOKIE=on) for a request from an allowed Origin: then it is only in "
                                                     "the __Host-latchkey-refresh cookie."),
                     tokenType={"const": "Bearer"},
                     expiresIn={"type": "integer", "description": "Access-token lifetime in seconds."},
                     refreshExpiresIn={"type": "integer", "description": "Refresh-token lifetime in seconds."},
                     user=ref("User"), amr=ref("Amr")),
    "RegisterResponse": {
        **obj(["user"], user=ref("User"), accessToken=string(), refreshToken=string(), tokenType={"const": "Bearer"},
              expiresIn={"type": "integer"}, refreshExpiresIn={"type": "integer"}, amr=ref("Amr")),
        "description": "The token-pair fields are present only when email verification is not required.",
    },
    "Session": obj(["id", "createdAt", "lastUsedAt", "expiresAt", "userAgent", "ip", "current", "amr"],
                   id=string(format="uuid"), createdAt=string(format="date-time"), lastUsedAt=string(format="date-time"),
                   expiresAt=string(format="date-time"), userAgent={"type": ["string", "null"]},
                   ip={"type": ["string", "null"]},
                   current={"type": "boolean", "description": "The session of the access token used for this request."},
                   amr=ref("Amr")),
    "SessionList": obj(["sessions"], sessions={"type": "array", "items": ref("Session")},
                       nextCursor=string(description="Pass as ?cursor= for the next page; absent on the last page.")),
    "Status": obj(["status"], status=string(enum=["ok"])),
    "Accepted": {**obj(["success", "message"], success={"const": True}, message=string()),
                 "description": "The same body whether or not the account exists."},
    "EmailRequest": obj(["email"], email=string(description="Any string: the answer is the same whether or not it is an address with an account.")),
    "TokenRequest": obj(["token"], token=string(description="The token from the emailed link.")),
    "ResetPasswordRequest": obj(["token", "newPassword"], token=string(),
                                newPassword=string(minLength=8, maxLength=72, description="The same policy as registration.")),
    "AdminUser": {
        **obj(["id", "email", "name", "role", "emailVerified", "createdAt", "updatedAt", "disabled", "deletedAt", "lastLoginAt",
               "activeSessions", "mfaEnabled", "passkeys", "identities"],
              id=string(format="uuid"), email=string(), name=string(), role=string(enum=["user", "admin"]),
              emailVerified={"type": "boolean"}, createdAt=string(format="date-time"), updatedAt=string(format="date-time"),
              disabled={"type": "boolean", "description": "A disabled account cannot log in or refresh (403 ACCOUNT_DISABLED)."},
              deletedAt={"type": ["string", "null"], "format": "date-time"},
              lastLoginAt={"type": ["string", "null"], "format": "date-time", "description": "When the account last opened a session."},
              activeSessions={"type": "integer", "minimum": 0, "description": "Sessions neither revoked nor expired."},
              mfaEnabled={"type": "boolean", "description": "TOTP is on."},
              passkeys={"type": "integer", "minimum": 0, "description": "How many passkeys the account has."},
              identities={"type": "array", "items": string(), "description": "The providers of the account's linked identities."}),
        "description": "The User object plus what an administrator sees.",
    },
    "AdminUserList": obj(["users"], users={"type": "array", "items": ref("AdminUser")},
                         nextCursor=string(description="Pass as ?cursor= for the next page; absent on the last page.")),
    "AdminUserUpdate": obj([], role={"type": ["string", "null"], "enum": ["user", "admin", None]},
                           disabled={"type": ["boolean", "null"], "description": "true revokes every session of the account at once."},
                           name={"type": ["string", "null"], "minLength": 1, "maxLength": 100, "description": NAME_RULE},
                           emailVerified={"type": ["boolean", "null"]}),
    "AuditEvent": {
        **obj(["id", "at", "type", "userId", "sessionId", "ip", "userAgent", "requestId", "details"],
              id=string(format="uuid"), at=string(format="date-time"),
              type=string(enum=["user.registered", "user.email_verified", "login.succeeded", "login.failed", "login.throttled",
                                "token.refreshed", "token.reuse_detected", "session.revoked", "logout", "logout_all", "password.changed",
                                "password.reset_requested", "password.reset", "user.deleted", "user.updated", "key.rotated", "key.retired",
                                "mfa.totp_enabled", "mfa.totp_disabled", "mfa.recovery_codes_regenerated", "mfa.recovery_code_used",
                                "mfa.challenge_failed", "mfa.reset", "passkey.added", "passkey.removed", "passkey.clone_suspected"]),
              userId={"type": ["string", "null"], "format": "uuid",
                      "description": "The account the event is about; for an administrator's change, the account changed."},
              sessionId={"type": ["string", "null"], "format": "uuid"},
              ip={"type": ["string", "null"], "description": "The client IP (see LATCHKEY_TRUSTED_PROXIES); null for the command line."},
              userAgent={"type": ["string", "null"]},
              requestId={"type": ["string", "null"], "description": "The request id the server's log lines carry."},
              details={"type": "object",
                       "additionalProperties": {"anyOf": [{"type": ["string", "integer", "boolean"]}, {"type": "array", "items": string()}]},
                       "description": "A small object, never a password, token or hash: actorId (the administrator) for an "
                                      "administrator's change, the fields changed by user.updated, reason (and the email tried, for an "
                                      "unknown one) for login.failed and login.throttled, amr (an array) for login.succeeded, kid for key "
                                      "events, method (otp or recovery) for mfa.challenge_failed, which is written for every wrong code, passkeyId "
                                      "(and aaguid, or storedCount) for passkey events."}),
        "description": "One entry of the audit log, written in the same transaction as the change it records.",
    },
    "AuditEventList": obj(["events"], events={"type": "array", "items": ref("AuditEvent")},
                          nextCursor=string(description="Pass as ?cursor= for the next page; absent on the last page.")),
    "JWKS": obj(["keys"], keys={"type": "array", "items": {"type": "object", "description": "A public JWK with kid and alg."}}),
    "RegisterRequest": obj(["email", "password", "name"],
                           email=string(format="idn-email", maxLength=254, description=EMAIL_RULE),
                           password=string(minLength=8, maxLength=72, description=PASSWORD_RULE),
                           name=string(minLength=1, maxLength=100, description=NAME_RULE)),
    "LoginRequest": obj(["email", "password"], email=string(), password=string()),
    "RefreshRequest": obj([], refreshToken={"type": ["string", "null"],
                                            "description": "Required, unless cookie mode is on and the request carries the "
                                                           "__Host-latchkey-refresh cookie; a token here takes precedence over the cookie."}),
    "LogoutRequest": obj([], refreshToken={"type": ["string", "null"],
                                           "description": "Optional (absent or null) when a Bearer token is sent, or in cookie mode with the "
                                                          "__Host-latchkey-refresh cookie; a token here takes precedence over the cookie."}),
    "VerifyEmailForm": obj([], token=string(description="The token from the emailed link.")),
    "EmailForm": obj(["email"], email=string(minLength=1, description="An empty one is a 400 page asking for it.")),
    "ResetPasswordForm": obj([], token=string(), newPassword=string(), confirmPassword=string(description="Must equal newPassword.")),
    "UpdateProfileRequest": obj(["name"], name=string(minLength=1, maxLength=100, description=NAME_RULE)),
    "Confirmation": {
        **obj([], password=string(description="Required for an account that has a password. Wrong: 401 INVALID_CREDENTIALS, counted as a "
                                               "failed login by the account throttle; during its wait, 429 RATE_LIMITED without a check."),
              code=string(description="Required for an account with TOTP on: a current TOTP code or an unused recovery code (which "
                                      "is then spent). Wrong: 401 INVALID_MFA_CODE, counted in the account's code budget.")),
        "description": "The confirmation of a sensitive action. An account without a password confirms with a recent sign-in instead: "
                       "the access token's auth_time no older than LATCHKEY_REAUTH_MAX_AGE (default 10m), else 403 "
                       "REAUTHENTICATION_REQUIRED. The first failing check answers: authentication, confirmation, code, then the "
                       "route's own rules.",
    },
    "MFACodeRequest": obj(["code"], code=string(description="A current TOTP code of the pending secret.")),
    "MFAVerifyRequest": {
        **obj([], mfaToken=string(description="From the login challenge. Without it, the Bearer token's session is stepped up."),
              code=string(description="A TOTP code, or a recovery code."),
              recoveryCode=string(description="A recovery code, in any case, with or without hyphens and spaces.")),
        "description": "mfaToken (or a Bearer token for a step-up) and exactly one of code or recoveryCode.",
    },
    "MFAChallenge": {
        **obj(["mfaRequired", "mfaToken", "methods", "expiresIn"], mfaRequired={"const": True},
              mfaToken=string(description="Opaque, 256 bits; lives expiresIn seconds, ends with the first success and dies after 5 wrong "
                                          "codes."),
              methods={"type": "array", "items": string(enum=["totp", "recovery", "passkey"]),
                       "description": "What the account can answer with: recovery while it has unused recovery codes."},
              expiresIn={"type": "integer", "const": 300}),
        "description": "The answer to a right first factor of an account with TOTP: no session is created and no cookie is set; "
                       "POST /auth/mfa/verify finishes the sign-in.",
    },
    "MFAStatus": obj(["totp", "recoveryCodesRemaining", "passkeys"],
                     totp={"oneOf": [{"type": "null"},
                                     obj(["enabled", "confirmedAt"], enabled={"type": "boolean", "description": "false while an "
                                                                              "enrolment waits for its first code"},
                                         confirmedAt={"type": ["string", "null"], "format": "date-time"})]},
                     recoveryCodesRemaining={"type": "integer", "minimum": 0}, passkeys={"type": "integer", "minimum": 0}),
    "TOTPEnrolment": obj(["secret", "otpauthUri", "qrSvg", "algorithm", "digits", "period"],
                         secret=string(description="Base32 without padding: a 160-bit (20-byte) key. Each byte holds 7 random "
                                                   "bits (140 bits in all, above RFC 4226's 128): HummingbirdOTP, which computes "
                                                   "the codes, keys its HMAC with a string's UTF-8."),
                         otpauthUri=string(description="otpauth://totp/{issuer}:{email}?secret=…&issuer={issuer}&algorithm=SHA1&digits=6"
                                                       "&period=30, issuer = LATCHKEY_PRODUCT_NAME (default Latchkey), each part "
                                                       "percent-encoded (a space is %20)."),
                         qrSvg=string(description="An SVG document of a QR code that decodes to exactly otpauthUri."),
                         algorithm={"const": "SHA1"}, digits={"const": 6}, period={"const": 30}),
    "RecoveryCodes": obj(["recoveryCodes"],
                         recoveryCodes={"type": "array", "minItems": 10, "maxItems": 10,
                                        "items": string(pattern="^[a-z0-9]{5}-[a-z0-9]{5}-[a-z0-9]{5}$"),
                                        "description": "Ten single-use codes, shown only here; each replaces a TOTP code once."}),
    "PublicKeyCredentialDescriptor": obj(["type", "id"], type={"const": "public-key"}, id=string(description="A credential id, base64url."),
                                         transports={"type": "array", "items": string(), "description": "As the browser reported them."}),
    "CreationOptions": {
        **obj(["rp", "user", "challenge", "pubKeyCredParams", "timeout", "excludeCredentials", "authenticatorSelection", "attestation"],
              rp=obj(["id", "name"], id=string(description="LATCHKEY_WEBAUTHN_RP_ID (default: the app URL's host)"),
                     name=string(description="LATCHKEY_WEBAUTHN_RP_NAME (default: the product name)")),
              user=obj(["id", "name", "displayName"],
                       id=string(description="The account's random 32-byte handle, base64url: never its email or id, the same for "
                                             "every registration of the account."),
                       name=string(description="The email."), displayName=string(description="The account's name.")),
              challenge=string(description="32 random bytes, base64url: one registration of this account within 5 minutes."),
              pubKeyCredParams={"type": "array", "items": obj(["type", "alg"], type={"const": "public-key"}, alg={"type": "integer"}),
                                "description": "EdDSA (-8), ES256 (-7), RS256 (-257), in this order."},
              timeout={"const": 300000}, excludeCredentials={"type": "array", "items": ref("PublicKeyCredentialDescriptor"),
                                                             "description": "The account's passkeys."},
              authenticatorSelection=obj(["residentKey", "userVerification"], residentKey={"const": "required"},
                                         userVerification=string(enum=["preferred", "required"],
                                                                 description="LATCHKEY_WEBAUTHN_USER_VERIFICATION (default preferred)")),
              attestation={"const": "none"}),
        "description": "PublicKeyCredentialCreationOptionsJSON (WebAuthn Level 3), itself: not wrapped in publicKey. Binary values "
                       "are base64url without padding.",
    },
    "RequestOptions": {
        **obj(["challenge", "timeout", "rpId", "allowCredentials", "userVerification"],
              challenge=string(description="32 random bytes, base64url: one response within 5 minutes."),
              timeout={"const": 300000}, rpId=string(),
              allowCredentials={"type": "array", "items": ref("PublicKeyCredentialDescriptor"),
                                "description": "Empty for a sign-in (discoverable credentials)."},
              userVerification=string(enum=["preferred", "required"])),
        "description": "PublicKeyCredentialRequestOptionsJSON (WebAuthn Level 3), itself: not wrapped in publicKey.",
    },
    "RegistrationResponse": {
        **obj(["id", "rawId", "type", "response"], id=string(), rawId=string(description="The credential id, base64url."),
              type={"const": "public-key"},
              response=obj(["clientDataJSON", "attestationObject"], clientDataJSON=string(), attestationObject=string(),
                           transports={"type": "array", "items": string()})),
        "description": "RegistrationResponseJSON, as PublicKeyCredential.toJSON() gives it; other members are ignored.",
    },
    "AuthenticationResponse": {
        **obj(["id", "rawId", "type", "response"], id=string(), rawId=string(description="The credential id, base64url."),
              type={"const": "public-key"},
              response=obj(["clientDataJSON", "authenticatorData", "signature"], clientDataJSON=string(), authenticatorData=string(),
                           signature=string(), userHandle={"type": ["string", "null"],
                                                           "description": "Required for a sign-in: the account's handle."})),
        "description": "AuthenticationResponseJSON, as PublicKeyCredential.toJSON() gives it; other members are ignored.",
    },
    "PasskeyRegistrationRequest": obj(["credential"], credential=ref("RegistrationResponse"),
                                      name=string(minLength=1, maxLength=64, description="Default Passkey. " + "1 to 64 Unicode scalars "
                                                  "without control, format, line or paragraph separator characters.")),
    "PasskeySignInRequest": obj(["credential"], credential=ref("AuthenticationResponse")),
    "PasskeyRenameRequest": obj(["name"], name=string(minLength=1, maxLength=64, description="1 to 64 Unicode scalars without control, "
                                                                                         "format, line or paragraph separator characters.")),
    "Empty": {"type": "object", "description": "{}: nothing is asked."},
    "Passkey": obj(["id", "name", "createdAt", "lastUsedAt", "backupEligible", "backedUp", "transports", "aaguid"],
                   id=string(format="uuid", description="The server's id, not the credential id."), name=string(),
                   createdAt=string(format="date-time"),
                   lastUsedAt={"type": ["string", "null"], "format": "date-time", "description": "Null until the first sign-in."},
                   backupEligible={"type": "boolean"}, backedUp={"type": "boolean"}, transports={"type": "array", "items": string()},
                   aaguid=string(format="uuid", description="Lower-case; all zeros when the authenticator names no model.")),
    "PasskeyList": obj(["passkeys"], passkeys={"type": "array", "items": ref("Passkey")}),
    "ChangePasswordRequest": obj(["currentPassword", "newPassword"], currentPassword=string(),
                                 newPassword=string(minLength=8, maxLength=72, description="The same policy as registration.")),
}


CONFIRMATION = ("INVALID_CREDENTIALS", "REAUTHENTICATION_REQUIRED", "INVALID_MFA_CODE", "RATE_LIMITED")
CODE_WAIT = ("the account waits after LATCHKEY_MFA_FREE_FAILURES (default 5) wrong codes: 30 s (LATCHKEY_MFA_DELAY), doubling with "
             "each further wrong code up to LATCHKEY_MFA_MAX_DELAY (15m). During a wait every code is a 429, right or wrong. This "
             "budget is the account's own for codes: wrong passwords never use it, nor wrong codes the login's.")

RETRY_AFTER = {"Retry-After": {"required": True, "description": "Whole seconds after which the request may succeed",
                               "schema": {"type": "integer", "minimum": 1}}}


def error_response(*codes):
    response = {"description": " or ".join(codes), "content": {"application/json": {"schema": ref("Error")}}}
    if "RATE_LIMITED" in codes or "SERVICE_UNAVAILABLE" in codes:
        response["headers"] = RETRY_AFTER
    return response


def errors(*codes):
    by_status = {}
    for code in codes:
        by_status.setdefault(str(ERRORS[code]), []).append(code)
    return {status: error_response(*names) for status, names in by_status.items()}


JSON_BODY = ("INVALID_JSON", "VALIDATION_ERROR", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE")
BEARER = ("TOKEN_MISSING", "TOKEN_EXPIRED", "TOKEN_INVALID")
NO_STORE = {"Cache-Control": {"schema": string(const="no-store")}, "Pragma": {"schema": string(const="no-cache")}}


def op(summary, success, body=None, bearer=False, error_codes=(), extra=None, database=True, limited=None):
    """database: the route needs the database, so it answers 503 SERVICE_UNAVAILABLE (with Retry-After) while it is gone.
    limited: which abuse limits apply; over one, 429 RATE_LIMITED with Retry-After."""
    codes = tuple(error_codes) + (("SERVICE_UNAVAILABLE",) if database and "SERVICE_UNAVAILABLE" not in error_codes else ())
    codes += ("RATE_LIMITED",) if limited else ()
    operation = {"summary": summary, "responses": {**success, **errors(*codes, "INTERNAL_ERROR")}}
    if limited:
        operation["responses"]["429"]["description"] = "RATE_LIMITED: " + limited + " The request had no other effect."
    if body:
        operation["requestBody"] = {"required": body[1], "content": {"application/json": {"schema": ref(body[0])}}}
    if bearer:
        operation["security"] = [{"bearer": []}]
    if extra:
        operation.update(extra)
    return operation


def ok(schema, status="200", description="OK", headers=None):
    response = {"description": description, "content": {"application/json": {"schema": ref(schema)}}}
    if headers:
        response["headers"] = headers
    return {status: response}


NO_CONTENT = {"204": {"description": "Done."}}

HTML = {"text/html": {"schema": string()}}
PAGE_HEADERS = {
    "Content-Security-Policy": {"schema": string(const="default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                                                       "frame-ancestors 'none'; base-uri 'none'")},
    "Cache-Control": {"schema": string(const="no-store")},
}
COOKIE = "__Host-latchkey-refresh"
SET_COOKIE = {"Set-Cookie": {"description": f"Cookie mode only: {COOKIE}=<token>; Path=/; Max-Age=<refresh TTL>; Secure; HttpOnly; "
                                            "SameSite=Strict, sent instead of the body's refreshToken to a request from an allowed Origin "
                                            "(LATCHKEY_CORS_ORIGINS or the app URL's), and to a refresh through the cookie.",
                             "schema": string()}}
CLEAR_COOKIE = {"Set-Cookie": {"description": f"Cookie mode, when the request carried the cookie: {COOKIE}=; Path=/; Max-Age=0; Secure; "
                                              "HttpOnly; SameSite=Strict (the cookie is cleared).", "schema": string()}}
COOKIE_PARAMETERS = [
    {"name": COOKIE, "in": "cookie", "required": False, "schema": string(),
     "description": "Cookie mode: used when the body has no refreshToken. A request that uses it needs X-Latchkey-CSRF: 1 and an allowed "
                    "Origin (or, without Origin, Sec-Fetch-Site: same-origin); otherwise 403 CSRF_REJECTED and nothing changes."},
    {"name": "X-Latchkey-CSRF", "in": "header", "required": False, "schema": string(),
     "description": "Must be 1 on a request that uses the cookie; ignored otherwise."},
]


def add_error(operation, code):
    """Adds an error code to an operation, next to the codes its status already has."""
    status = str(ERRORS[code])
    if status in operation["responses"]:
        operation["responses"][status]["description"] += " or " + code
    else:
        operation["responses"].update(errors(code))


def with_cookie(operation, responses_with_headers, reads=True):
    """Cookie mode: Set-Cookie on the given responses; where the route reads the cookie (reads), the cookie and the CSRF
    header as parameters, 403 CSRF_REJECTED and an optional body."""
    if reads:
        operation.setdefault("parameters", []).extend(COOKIE_PARAMETERS)
        add_error(operation, "CSRF_REJECTED")
        operation["requestBody"]["required"] = False
    for status, headers in responses_with_headers.items():
        operation["responses"][status].setdefault("headers", {}).update(headers)
    return operation


def with_form(operation, form_schema, success_status, success_description):
    """The pages' form posts: application/x-www-form-urlencoded in (unknown and malformed fields ignored, the first value of a
    name counts), text/html out (every error as a page too)."""
    operation["requestBody"]["content"]["application/x-www-form-urlencoded"] = {"schema": ref(form_schema)}
    page = {"description": success_description, "content": HTML, "headers": PAGE_HEADERS}
    responses = operation["responses"]
    if success_status in responses:
        responses[success_status]["content"].update(HTML)
        responses[success_status]["description"] += " For a form post: " + success_description
    else:
        responses[success_status] = page
    add_error(operation, "CSRF_REJECTED")
    for status, response in responses.items():
        if status >= "400":
            response["content"] = {**response["content"], **HTML}
    responses["400"]["description"] += (". A form post gets the page again with what went wrong (an unknown, used or expired token, "
                                        "the password policy's messages, passwords that do not match).")
    responses["403"]["description"] += (". A form post whose Origin is neither the app URL's nor this server's is a 403 page and changes "
                                        "nothing (Origin: null counts as this server's only with Sec-Fetch-Site: same-origin).")
    return operation


def page(summary, form_description):
    bad = {"description": "The token query parameter is missing or empty: the page says so and offers to send a new mail.",
           "content": HTML, "headers": PAGE_HEADERS}
    return {"summary": summary,
            "description": "A page with a form that posts to the same path (" + form_description + "). A GET never uses up the token "
                           "(mail scanners open links), and the page does not check it, so it reveals nothing.",
            "parameters": [{"name": "token", "in": "query", "required": True, "schema": string(minLength=1)}],
            "responses": {"200": {"description": "The page", "content": HTML, "headers": PAGE_HEADERS}, "400": bad}}

PATHS = {
    "/auth/register": {"post": with_cookie(op("Create an account", ok("RegisterResponse", "201", "Created", NO_STORE), ("RegisterRequest", True),
                                  error_codes=JSON_BODY + ("EMAIL_ALREADY_REGISTERED",),
                                  limited="the client IP's registration budget (LATCHKEY_RATE_LIMIT_REGISTER, default 30/5m) is spent."), {"201": SET_COOKIE}, reads=False)},
    "/auth/login": {"post": with_cookie(op("Log in; opens a session, or answers the second-factor challenge",
                               {"200": {"description": "A token pair; for an account with TOTP, the MFA challenge instead (no session, no cookie).",
                                        "content": {"application/json": {"schema": {"oneOf": [ref("TokenPair"), ref("MFAChallenge")]}}},
                                        "headers": NO_STORE}},
                               ("LoginRequest", True),
                               error_codes=JSON_BODY + ("INVALID_CREDENTIALS", "EMAIL_NOT_VERIFIED", "ACCOUNT_DISABLED"),
                               limited="the client IP's login budget (LATCHKEY_RATE_LIMIT_LOGIN, default 30/1m) is spent, or the account "
                                       "waits after LATCHKEY_LOGIN_FREE_FAILURES (5) consecutive failed logins from any IP: 30 s "
                                       "(LATCHKEY_LOGIN_DELAY), doubling with each further failure up to LATCHKEY_LOGIN_MAX_DELAY (15m). "
                                       "During a wait every login for the email is a 429, right password or not, known email or not; a "
                                       "successful login or password reset ends the count.",
                               extra={"description": "A user has at most LATCHKEY_MAX_SESSIONS_PER_USER (default 100) live sessions: a login "
                                                     "past it revokes the least recently used one."}), {"200": SET_COOKIE}, reads=False)},
    "/auth/refresh": {"post": with_cookie(op("Rotate a refresh token",
                                 ok("TokenPair", description="A new pair. Within the reuse grace window, the immediate predecessor of the live token returns the same new refresh token.", headers=NO_STORE),
                                 ("RefreshRequest", True),
                                 error_codes=JSON_BODY + ("INVALID_REFRESH_TOKEN", "REFRESH_TOKEN_REUSED", "ACCOUNT_DISABLED"),
                                 limited="the client IP's refresh budget (LATCHKEY_RATE_LIMIT_REFRESH, default 600/5m, apart from the "
                                         "login budget) is spent."), {"200": SET_COOKIE, "401": CLEAR_COOKIE})},
    "/auth/logout": {"post": with_cookie(op("End a session (idempotent)", NO_CONTENT, ("LogoutRequest", False),
                                error_codes=JSON_BODY + BEARER,
                                extra={"security": [{}, {"bearer": []}],
                                       "description": "Ends the session of refreshToken or, without one, of the Bearer token. Unknown tokens are a 204 too. With neither, VALIDATION_ERROR; with only an invalid Bearer token, its 401."}), {"204": CLEAR_COOKIE})},
    "/auth/logout-all": {"post": op("End every session of the user", NO_CONTENT, bearer=True, error_codes=BEARER)},
    "/auth/me": {
        "get": op("The current user", ok("User"), bearer=True, error_codes=BEARER),
        "patch": op("Update the profile", ok("User"), ("UpdateProfileRequest", True), bearer=True, error_codes=JSON_BODY + BEARER),
        "delete": op("Soft-delete the account; every session is revoked and the email stays reserved", NO_CONTENT,
                     ("Confirmation", True), bearer=True, error_codes=JSON_BODY + BEARER + CONFIRMATION),
    },
    "/auth/mfa": {"get": op("The account's second factors", ok("MFAStatus"), bearer=True, error_codes=BEARER)},
    "/auth/mfa/totp/enroll": {"post": op("Start a TOTP enrolment (a second one replaces a pending one)", ok("TOTPEnrolment", headers=NO_STORE),
                                         ("Confirmation", True), bearer=True,
                                         error_codes=JSON_BODY + BEARER + CONFIRMATION + ("MFA_ALREADY_ENABLED",))},
    "/auth/mfa/totp/confirm": {"post": op("Turn TOTP on with a first code; every other session of the account is revoked",
                                          ok("RecoveryCodes", headers=NO_STORE), ("MFACodeRequest", True), bearer=True,
                                          error_codes=JSON_BODY + BEARER + ("INVALID_MFA_CODE", "NOT_FOUND"), limited=CODE_WAIT,
                                          extra={"description": "404 NOT_FOUND when no enrolment is pending. The code's step counts as "
                                                                "used: it cannot also finish the next login."})},
    "/auth/mfa/totp": {"delete": op("Turn TOTP off: the secret and the recovery codes are removed", NO_CONTENT, ("Confirmation", True),
                                    bearer=True, error_codes=JSON_BODY + BEARER + CONFIRMATION + ("NOT_FOUND",),
                                    extra={"description": "404 NOT_FOUND when TOTP is not on."})},
    "/auth/mfa/recovery-codes": {"post": op("Ten new recovery codes; the old ones die", ok("RecoveryCodes", headers=NO_STORE),
                                            ("Confirmation", True), bearer=True, error_codes=JSON_BODY + BEARER + CONFIRMATION + ("NOT_FOUND",),
                                            extra={"description": "404 NOT_FOUND when TOTP is not on."})},
    "/auth/mfa/verify": {"post": with_cookie(op("Finish a sign-in with its second factor, or step up the Bearer token's session",
                                    ok("TokenPair", headers=NO_STORE), ("MFAVerifyRequest", True),
                                    error_codes=JSON_BODY + ("INVALID_MFA_CODE", "INVALID_MFA_TOKEN", "ACCOUNT_DISABLED") + BEARER,
                                    limited=CODE_WAIT,
                                    extra={"security": [{}, {"bearer": []}],
                                           "description": "With mfaToken: a session whose amr is the first factor's, then otp or "
                                                          "recovery, then mfa; login.succeeded is written. A wrong code is 401 "
                                                          "INVALID_MFA_CODE (the fifth too); after five, and for an unknown, expired or used "
                                                          "mfaToken, 401 INVALID_MFA_TOKEN. Without mfaToken, with a Bearer token: the "
                                                          "factor is added to that session (same sid, new amr, auth_time now, a rotated "
                                                          "refresh token; the replaced one follows the grace and reuse rules); an "
                                                          "account without that factor gets 401 INVALID_MFA_CODE. With neither, "
                                                          "VALIDATION_ERROR naming mfaToken."}), {"200": SET_COOKIE}, reads=False)},
    "/auth/passkeys/register/options": {"post": op("Creation options for a new passkey of the account", ok("CreationOptions", headers=NO_STORE),
                                                   ("Confirmation", True), bearer=True, error_codes=JSON_BODY + BEARER + CONFIRMATION)},
    "/auth/passkeys/register": {"post": op("Register a passkey with the response to creation options", ok("Passkey", "201", "Created"),
                                           ("PasskeyRegistrationRequest", True), bearer=True,
                                           error_codes=JSON_BODY + BEARER + ("PASSKEY_INVALID", "PASSKEY_ALREADY_REGISTERED"),
                                           extra={"description": "400 PASSKEY_INVALID unless: clientDataJSON's type is webauthn.create; its "
                                                                 "challenge is a live registration challenge of this account (each is spent by "
                                                                 "the first response naming it, good or bad); its origin is one of "
                                                                 "LATCHKEY_WEBAUTHN_ORIGINS and crossOrigin is not true; the rpIdHash is the rp "
                                                                 "id's SHA-256; UP is set (and UV when LATCHKEY_WEBAUTHN_USER_VERIFICATION is "
                                                                 "required); the key is a COSE key of EdDSA, ES256 or RS256 whose type and curve "
                                                                 "agree; the credential id has at most 1023 bytes. Attestation is not verified. "
                                                                 "409 PASSKEY_ALREADY_REGISTERED for a credential id stored already."})},
    "/auth/passkeys/login/options": {"post": op("Request options for a passkey sign-in (discoverable credentials)",
                                                ok("RequestOptions", headers=NO_STORE), ("Empty", True), error_codes=JSON_BODY,
                                                limited="the client IP's login budget (LATCHKEY_RATE_LIMIT_LOGIN, default 30/1m) is spent.")},
    "/auth/passkeys/login": {"post": with_cookie(op("Sign in with a passkey; opens a session, or answers the second-factor challenge",
                                    {"200": {"description": "A token pair whose amr is [hwk, mfa] with user verification, [hwk] without; "
                                                            "for an account with TOTP and no user verification, the MFA challenge instead.",
                                             "content": {"application/json": {"schema": {"oneOf": [ref("TokenPair"), ref("MFAChallenge")]}}},
                                             "headers": NO_STORE}},
                                    ("PasskeySignInRequest", True), error_codes=JSON_BODY + ("INVALID_CREDENTIALS", "ACCOUNT_DISABLED"),
                                    limited="the client IP's login budget (LATCHKEY_RATE_LIMIT_LOGIN, default 30/1m) is spent.",
                                    extra={"description": "401 INVALID_CREDENTIALS, one answer for every cause, unless: the credential is "
                                                          "known; type webauthn.get; a live sign-in challenge (spent by the first response "
                                                          "naming it); an accepted origin, crossOrigin not true; the rpIdHash; UP (and UV "
                                                          "when required); the signature over authenticatorData and the SHA-256 of "
                                                          "clientDataJSON; userHandle is the account's; the backup-eligible flag is as "
                                                          "registered; the signature counter grew (unless it is 0 and was 0: synced "
                                                          "passkeys), else passkey.clone_suspected is audited. Only then does a disabled or "
                                                          "deleted account answer 403 ACCOUNT_DISABLED."}), {"200": SET_COOKIE}, reads=False)},
    "/auth/passkeys": {"get": op("The account's passkeys, oldest first", ok("PasskeyList"), bearer=True, error_codes=BEARER)},
    "/auth/passkeys/{id}": {
        "patch": op("Rename a passkey", ok("Passkey"), ("PasskeyRenameRequest", True), bearer=True,
                    error_codes=JSON_BODY + BEARER + ("NOT_FOUND",),
                    extra={"parameters": [{"name": "id", "in": "path", "required": True, "schema": string(format="uuid")}],
                           "description": "Another account's passkey, or an unknown id, is a 404."}),
        "delete": op("Remove a passkey", NO_CONTENT, ("Confirmation", True), bearer=True,
                     error_codes=JSON_BODY + BEARER + CONFIRMATION + ("NOT_FOUND", "LAST_SIGN_IN_METHOD"),
                     extra={"parameters": [{"name": "id", "in": "path", "required": True, "schema": string(format="uuid")}],
                            "description": "Another account's passkey, or an unknown id, is a 404 before anything else is checked. 409 "
                                           "LAST_SIGN_IN_METHOD when it is the account's last way in (no password, no other passkey)."}),
    },
    "/auth/change-password": {"post": op("Change the password; every other session is revoked", NO_CONTENT,
                                         ("ChangePasswordRequest", True), bearer=True,
                                         error_codes=JSON_BODY + BEARER + ("INVALID_CREDENTIALS",))},
    "/auth/sessions": {"get": op("Live sessions of the user, newest first, a page at a time", ok("SessionList"), bearer=True,
                                 error_codes=BEARER + ("VALIDATION_ERROR",),
                                 extra={"parameters": [
                                     {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
                                     {"name": "cursor", "in": "query",
                                      "schema": string(description="nextCursor of the previous page; empty means the first page. A cursor this server "
                                                                   "never gave out is a 400; one whose session is gone gives an empty page.")},
                                 ]})},
    "/auth/sessions/{id}": {"delete": op("Revoke a session", NO_CONTENT, bearer=True, error_codes=BEARER + ("NOT_FOUND",),
                                         extra={"parameters": [{"name": "id", "in": "path", "required": True, "schema": string(format="uuid")}],
                                                "description": "Another user's session, or an unknown id, is a 404."})},
    "/auth/verify-email": {"get": page("The page the verification mail links to", "field token"),
                           "post": with_form(op("Verify the email address with the emailed token (single-use, valid for LATCHKEY_VERIFICATION_TOKEN_TTL (default 24h))", ok("User"),
                                      ("TokenRequest", True), error_codes=JSON_BODY + ("INVALID_OR_EXPIRED_TOKEN",),
                                      limited="the client IP's budget for this route (LATCHKEY_RATE_LIMIT_TOKEN, default 30/5m) is spent."),
                                   "VerifyEmailForm", "200", "the confirmation page.")},
    "/auth/verify-email/resend": {"post": with_form(op("Send a new verification mail", ok("Accepted", "202", "Accepted"), ("EmailRequest", True),
                                             error_codes=("INVALID_JSON", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"),
                                             extra={"description": "202 with the same body, after the same minimum time, whether or not the email belongs to an unverified account; only then is a mail sent."},
                                             limited="the client IP's budget for this route (LATCHKEY_RATE_LIMIT_EMAIL, default 10/5m) is spent. Past "
                                                     "LATCHKEY_MAIL_PER_RECIPIENT (default 3/1h) mails to one address the answer is still this 202; no "
                                                     "mail is sent."), "EmailForm", "200", "a page saying a mail is on its way if the account exists and is not verified.")},
    "/auth/forgot-password": {"post": with_form(op("Send a password-reset mail", ok("Accepted", "202", "Accepted"), ("EmailRequest", True),
                                         error_codes=("INVALID_JSON", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"),
                                         extra={"description": "202 with the same body, after the same minimum time, whether or not the account exists. A new request voids older reset links."},
                                         limited="the client IP's budget for this route (LATCHKEY_RATE_LIMIT_EMAIL, default 10/5m) is spent. Past "
                                                     "LATCHKEY_MAIL_PER_RECIPIENT (default 3/1h) mails to one address the answer is still this 202; no "
                                                     "mail is sent."), "EmailForm", "200",
                                         "a page saying a mail is on its way if the account exists (the form that a dead reset link's page offers).")},
    "/auth/reset-password": {"get": page("The page the reset mail links to", "fields token, newPassword, confirmPassword"),
                             "post": with_form(op("Set a new password with the emailed token (single-use, valid for LATCHKEY_RESET_TOKEN_TTL (default 1h)); every session is revoked",
                                        NO_CONTENT, ("ResetPasswordRequest", True),
                                        error_codes=JSON_BODY + ("INVALID_OR_EXPIRED_TOKEN",),
                                        limited="the client IP's budget for this route (LATCHKEY_RATE_LIMIT_TOKEN, default 30/5m) is spent."),
                                       "ResetPasswordForm", "200", "the page saying the password was changed.")},
    "/admin/users": {"get": op("Accounts, newest first, a page at a time (role admin)", ok("AdminUserList"), bearer=True,
                               error_codes=BEARER + ("FORBIDDEN", "VALIDATION_ERROR"),
                               extra={"parameters": [
                                   {"name": "email", "in": "query", "schema": string(description="A part of the email, in any case.")},
                                   {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
                                   {"name": "cursor", "in": "query",
                                    "schema": string(description="nextCursor of the previous page; empty means the first page. A cursor this server "
                                                                 "never gave out is a 400.")},
                               ]})},
    "/admin/users/{id}": {
        "get": op("One account (role admin)", ok("AdminUser"), bearer=True, error_codes=BEARER + ("FORBIDDEN", "NOT_FOUND"),
                  extra={"parameters": [{"name": "id", "in": "path", "required": True, "schema": string(format="uuid")}]}),
        "patch": op("Change an account's role, state, name or verification (role admin)", ok("AdminUser"), ("AdminUserUpdate", True),
                    bearer=True, error_codes=JSON_BODY + BEARER + ("FORBIDDEN", "NOT_FOUND"),
                    extra={"parameters": [{"name": "id", "in": "path", "required": True, "schema": string(format="uuid")}],
                           "description": "Absent or null fields stay as they are. Disabling revokes every session of the account at once, "
                                          "on every instance. An admin cannot demote or disable themselves (VALIDATION_ERROR)."}),
    },
    "/admin/users/{id}/logout-all": {"post": op("End every session of an account (role admin)", NO_CONTENT, bearer=True,
                                                error_codes=BEARER + ("FORBIDDEN", "NOT_FOUND"),
                                                extra={"parameters": [{"name": "id", "in": "path", "required": True,
                                                                       "schema": string(format="uuid")}]})},
    "/admin/users/{id}/mfa": {"delete": op("Remove an account's TOTP and recovery codes (passkeys stay) and revoke its sessions (role admin)",
                                           NO_CONTENT, bearer=True, error_codes=BEARER + ("FORBIDDEN", "NOT_FOUND"),
                                           extra={"parameters": [{"name": "id", "in": "path", "required": True,
                                                                  "schema": string(format="uuid")}]})},
    "/admin/audit": {"get": op("Audit events, newest first, a page at a time (role admin)", ok("AuditEventList"), bearer=True,
                               error_codes=BEARER + ("FORBIDDEN", "VALIDATION_ERROR"),
                               extra={"parameters": [
                                   {"name": "userId", "in": "query", "schema": string(format="uuid")},
                                   {"name": "type", "in": "query", "schema": string(description="One event type, such as login.failed.")},
                                   {"name": "since", "in": "query",
                                    "schema": string(description="Events at or after this RFC 3339 date-time, or within this duration back "
                                                                 "from now (24h, 7d).")},
                                   {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
                                   {"name": "cursor", "in": "query",
                                    "schema": string(description="nextCursor of the previous page; empty means the first page. A cursor this server "
                                                                 "never gave out is a 400.")},
                               ]})},
    "/assets/latchkey.css": {"get": op("The pages' stylesheet (LATCHKEY_TEMPLATES_DIR/latchkey.css replaces it)",
                                       {"200": {"description": "CSS", "content": {"text/css": {"schema": string()}}}}, database=False)},
    "/.well-known/jwks.json": {"get": op("Public keys that may have signed a live access token (empty for HS256)",
                                         {"200": {"description": "JWKS: every key not retired, including one rotated in that does not sign yet "
                                                                 "(LATCHKEY_KEY_ACTIVATION_DELAY)",
                                                  "content": {"application/json": {"schema": ref("JWKS")}},
                                                  "headers": {"Cache-Control": {"schema": string(const="public, max-age=300")}}}},
                                         database=False)},
    "/.well-known/apple-app-site-association": {"get": op("The iOS apps that may use this relying party's passkeys",
        {"200": {"description": "{webcredentials: {apps}, applinks: {details: [{appIDs, components: [{\"/\": \"/auth/*\"}]}]}} from "
                                "LATCHKEY_APPLE_APP_IDS (TEAMID.bundle.id)",
                 "content": {"application/json": {"schema": obj(["webcredentials", "applinks"],
                                                                 webcredentials=obj(["apps"], apps={"type": "array", "items": string()}),
                                                                 applinks={"type": "object"})}}}},
        error_codes=("NOT_FOUND",), database=False, extra={"description": "404 NOT_FOUND while LATCHKEY_APPLE_APP_IDS is unset."})},
    "/.well-known/assetlinks.json": {"get": op("The Android apps that may use this relying party's passkeys (Digital Asset Links)",
        {"200": {"description": "One statement per package of LATCHKEY_ANDROID_APPS: relations delegate_permission/common.get_login_creds "
                                "and delegate_permission/common.handle_all_urls, target android_app with package_name and "
                                "sha256_cert_fingerprints (colon-separated upper-case hex)",
                 "content": {"application/json": {"schema": {"type": "array", "items": obj(
                     ["relation", "target"], relation={"type": "array", "items": string()},
                     target=obj(["namespace", "package_name", "sha256_cert_fingerprints"], namespace={"const": "android_app"},
                                package_name=string(), sha256_cert_fingerprints={"type": "array", "items": string()}))}}}}},
        error_codes=("NOT_FOUND",), database=False, extra={"description": "404 NOT_FOUND while LATCHKEY_ANDROID_APPS is unset."})},
    "/health": {"get": op("Liveness", ok("Status"), database=False)},
    "/ready": {"get": op("Readiness: the database answers", ok("Status"), error_codes=("SERVICE_UNAVAILABLE",))},
    "/metrics": {"get": op("Prometheus metrics", {"200": {"description": "Prometheus text format", "content": {"text/plain": {"schema": string()}}}}, database=False)},
    "/openapi.json": {"get": op("This document", {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}, database=False)},
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "Latchkey",
        "version": "3.0.0",
        "description": "Authentication server. Every error has the Error body. Every response carries X-Content-Type-Options: nosniff, X-Frame-Options: DENY, Referrer-Policy: no-referrer and Content-Security-Policy: default-src 'none'; frame-ancestors 'none'; and Strict-Transport-Security: max-age=31536000; includeSubDomains when LATCHKEY_HSTS (default auto) is on, or auto with an https LATCHKEY_APP_URL. No header names a version. Every answer has Vary: Origin; requests whose Origin is one of LATCHKEY_CORS_ORIGINS or the origin of LATCHKEY_APP_URL get Access-Control-Allow-Origin with that origin (never *) and Access-Control-Allow-Credentials: true, preflights Access-Control-Allow-Headers: Authorization, Content-Type, X-Latchkey-CSRF; other origins get no CORS headers. 401s carry WWW-Authenticate: Bearer (with error=\"invalid_token\" when a token was sent), a 403 FORBIDDEN carries WWW-Authenticate: Bearer error=\"insufficient_scope\", a 403 MFA_REQUIRED or REAUTHENTICATION_REQUIRED carries WWW-Authenticate: Bearer error=\"insufficient_user_authentication\" (RFC 9470), and all of them carry Cache-Control: no-store. JSON bodies write / unescaped. HEAD on a GET route answers as the GET without its body; a known path with any other method is a 405 with Allow. JSON bodies that repeat a member name or are not UTF-8 are 400 INVALID_JSON. Bodies over LATCHKEY_MAX_BODY_SIZE (default 65536) bytes are a 413. A connection that sends part of a request and then nothing for LATCHKEY_REQUEST_HEADER_TIMEOUT (default 10s), or sits idle for LATCHKEY_IDLE_TIMEOUT (default 60s), is closed. Token answers, and every answer that carries a secret (a TOTP enrolment, recovery codes, the MFA challenge), carry Cache-Control: no-store and Pragma: no-cache. While the database is unreachable, routes that need it answer 503 SERVICE_UNAVAILABLE with Retry-After within seconds. Abuse limits are shared by every instance on one database; over one, 429 RATE_LIMITED with Retry-After (whole seconds). The client IP is the TCP peer, or behind LATCHKEY_TRUSTED_PROXIES the right-most X-Forwarded-For address that is not a trusted proxy. Pages (text/html) carry their own Content-Security-Policy (default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none') and Cache-Control: no-store. Cookie mode (LATCHKEY_REFRESH_COOKIE=on): a register, login or refresh request from an allowed Origin gets its refresh token only in the __Host-latchkey-refresh cookie (HttpOnly, Secure, SameSite=Strict), and refresh and logout read it when the body has none.",
    },
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
    },
}

# LATCHKEY_ADMIN_REQUIRE_MFA: every /admin route may refuse a sign-in without a second factor.
for path, methods in PATHS.items():
    if path.startswith("/admin/"):
        for operation in methods.values():
            add_error(operation, "MFA_REQUIRED")
            operation["responses"]["403"]["description"] += (" (MFA_REQUIRED, with WWW-Authenticate: Bearer "
                                                             "error=\"insufficient_user_authentication\", when LATCHKEY_ADMIN_REQUIRE_MFA (default "
                                                             "off) is on and the token's amr lacks mfa)")

# HEAD on every GET route, as RFC 9110 asks: the GET's status and headers, no body.
for methods in PATHS.values():
    if "get" in methods:
        head = json.loads(json.dumps(methods["get"]))
        head["summary"] = "The headers of GET"
        for response in head["responses"].values():
            response.pop("content", None)
        methods["head"] = head

if __name__ == "__main__":
    target = pathlib.Path(__file__).resolve().parent.parent / "Sources/LatchkeyServer/Resources/openapi.json"
    text = json.dumps(DOCUMENT, indent=2) + "\n"
    if sys.argv[1:] == ["--check"]:
        if target.read_text() != text:
            sys.exit(f"{target} is not what scripts/openapi.py writes: run scripts/openapi.py and commit both")
    else:
        target.write_text(text)
        print(f"wrote {target}")
