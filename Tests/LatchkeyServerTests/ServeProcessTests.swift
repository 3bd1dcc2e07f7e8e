import Foundation
import LatchkeyTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real `latchkey` executable: start-up, configuration errors and graceful shutdown.
@Suite(.serialized) struct ServeProcessTests {
    typealias Server = ServerProcess

    @Test func sigtermFinishesInFlightRequestsAndExitsZero() async throws {
        let server = try Server(["LATCHKEY_BCRYPT_COST": "13"])
        try await server.waitUntilHealthy()
        // A registration spends ~0.5 s in bcrypt: SIGTERM arrives while it is in flight.
        async let status = server.post("/auth/register", ["email": "drain@example.com", "password": "Tr1cky!pass", "name": "D"])
        try await Task.sleep(for: .milliseconds(150))
        kill(server.process.processIdentifier, SIGTERM)
        #expect(try await status == 201)
        #expect(try await server.waitForExit() == 0)
    }

    @Test func sigintExitsZero() async throws {
        let server = try Server()
        try await server.waitUntilHealthy()
        kill(server.process.processIdentifier, SIGINT)
        #expect(try await server.waitForExit() == 0)
    }

    /// A service that fails (here the HTTP server: its port is taken) stops the others, which are cancelled rather than
    /// shut down gracefully, and the process exits instead of looping.
    @Test func aPortInUseEndsTheProcess() async throws {
        let first = try Server()
        defer { first.terminate() }
        try await first.waitUntilHealthy()
        let second = try Server(port: first.port)
        for _ in 0..<150 where second.process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        let ended = !second.process.isRunning
        if !ended { kill(second.process.processIdentifier, SIGKILL) }
        second.process.waitUntilExit()
        #expect(ended, "still running 15 s after its port was refused")
        #expect(second.process.terminationStatus != 0)
    }

    @Test func badConfigurationStopsStartupWithOneSentence() async throws {
        let server = try Server(["LATCHKEY_BCRYPT_COST": "3"])
        #expect(try await server.waitForExit() == 78)
        #expect(server.log.contains("LATCHKEY_BCRYPT_COST must be a whole number from 4 to 16"))
    }

    @Test func jsonLogsCarryRequestIdsAndNoSecrets() async throws {
        let server = try Server(["LATCHKEY_LOG_FORMAT": "json"])
        try await server.waitUntilHealthy()
        #expect(try await server.post("/auth/register", ["email": "log@example.com", "password": "Secret#Pass1", "name": "L"]) == 201)
        #expect(try await server.post("/auth/login", ["email": "log@example.com", "password": "Wrong#Pass1"]) == 401)
        kill(server.process.processIdentifier, SIGTERM)
        _ = try await server.waitForExit()
        let lines = server.log.split(separator: "\n")
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objects.count == lines.count, "every line is JSON")
        let requests = objects.filter { $0["msg"] as? String == "request" }
        #expect(requests.count >= 3)
        #expect(requests.allSatisfy { $0["hb.request.id"] != nil })
        #expect(objects.contains { $0["event"] as? String == "login.failed" && $0["hb.request.id"] != nil })
        #expect(!server.log.contains("Secret#Pass1") && !server.log.contains("Wrong#Pass1") && !server.log.contains("$2b$"))
    }

    /// Second factors through the real process: the codes are counted by method and result, and no secret of theirs
    /// (the TOTP secret, a code, a recovery code, the mfaToken) reaches the log, even at debug level.
    @Test func secondFactorsAreCountedAndNeverLogged() async throws {
        let server = try Server(["LATCHKEY_REQUIRE_EMAIL_VERIFICATION": "false", "LATCHKEY_LOG_LEVEL": "debug"])
        try await server.waitUntilHealthy()
        let account = ["email": "second@example.com", "password": "Secret#Pass1", "name": "S"]
        let bearer = try #require(try await server.call("/auth/register", account).json["accessToken"] as? String)
        let enrolment = try await server.call("/auth/mfa/totp/enroll", ["password": "Secret#Pass1"], bearer: bearer).json
        let secret = try #require(enrolment["secret"] as? String)
        let app = try AuthenticatorApp(secret: secret)
        let first = try await app.nextCode()
        let recoveryCodes = try #require(
            try await server.call("/auth/mfa/totp/confirm", ["code": first], bearer: bearer).json["recoveryCodes"] as? [String]
        )
        let mfaToken = try #require(
            try await server.call("/auth/login", ["email": account["email"]!, "password": "Secret#Pass1"]).json["mfaToken"] as? String
        )
        #expect(try await server.post("/auth/mfa/verify", ["mfaToken": mfaToken, "code": "000000"]) == 401)
        let second = try await app.nextCode()
        #expect(try await server.post("/auth/mfa/verify", ["mfaToken": mfaToken, "code": second]) == 200)
        let (data, _) = try await URLSession.shared.data(from: URL(string: "\(server.base)/metrics")!)
        let metrics = String(decoding: data, as: UTF8.self)
        #expect(metrics.contains(#"latchkey_mfa_verifications_total{method="totp",result="success"} 2"#))
        #expect(metrics.contains(#"latchkey_mfa_verifications_total{method="totp",result="failure"} 1"#))
        kill(server.process.processIdentifier, SIGTERM)
        _ = try await server.waitForExit()
        for text in [secret, first, second, mfaToken, "Secret#Pass1"] + recoveryCodes {
            #expect(!server.log.contains(text), "\(text)")
        }
    }

    /// Passkey ceremonies through the real process are counted by kind and result.
    @Test func passkeyCeremoniesAreCounted() async throws {
        let server = try Server(["LATCHKEY_REQUIRE_EMAIL_VERIFICATION": "false", "LATCHKEY_APP_URL": "https://example.com"])
        try await server.waitUntilHealthy()
        let account = ["email": "passkeys@example.com", "password": "Secret#Pass1", "name": "P"]
        let bearer = try #require(try await server.call("/auth/register", account).json["accessToken"] as? String)
        let authenticator = try SoftwareAuthenticator(.es256, rpID: "example.com", origin: "https://example.com")
        let options = try await server.call("/auth/passkeys/register/options", ["password": "Secret#Pass1"], bearer: bearer).json
        let challenge = try #require(options["challenge"] as? String)
        let credential = try authenticator.registrationJSON(challenge: challenge)
        #expect(try await server.call("/auth/passkeys/register", ["credential": credential], bearer: bearer).status == 201)
        let handle = try #require((options["user"] as? [String: Any])?["id"] as? String)
        let request = try #require(try await server.call("/auth/passkeys/login/options", [:]).json["challenge"] as? String)
        let assertion = try authenticator.assertionJSON(challenge: request, userHandle: handle)
        #expect(try await server.call("/auth/passkeys/login", ["credential": assertion]).status == 200)
        #expect(try await server.call("/auth/passkeys/login", ["credential": assertion]).status == 401)
        let metrics = try await server.metrics()
        #expect(metrics.contains(#"latchkey_passkey_ceremonies_total{kind="register",result="success"} 1"#))
        #expect(metrics.contains(#"latchkey_passkey_ceremonies_total{kind="login",result="success"} 1"#))
        #expect(metrics.contains(#"latchkey_passkey_ceremonies_total{kind="login",result="failure"} 1"#))
    }

    /// Request metrics count the status the client got, framework errors included (a 405 was counted as 500).
    @Test func metricsCountTheStatusSent() async throws {
        let server = try Server()
        try await server.waitUntilHealthy()
        #expect(try await server.post("/health", [:]) == 405)
        #expect(try await server.post("/nowhere", [:]) == 404)
        #expect(try await server.post("/auth/login", ["email": "nobody@example.com", "password": "Wrong#Pass1"]) == 401)
        let (data, _) = try await URLSession.shared.data(from: URL(string: "\(server.base)/metrics")!)
        let metrics = String(decoding: data, as: UTF8.self)
        #expect(metrics.contains(#"http_request_method="POST",http_response_status_code="405""#))
        #expect(metrics.contains(#"http_response_status_code="404""#))
        #expect(metrics.contains(#"http_route="/auth/login",http_request_method="POST",http_response_status_code="401""#))
        #expect(!metrics.contains(#"http_response_status_code="500""#))
        kill(server.process.processIdentifier, SIGTERM)
        _ = try await server.waitForExit()
    }

    /// What an operator alerts on: logins, registrations, refreshes and reuse, mails, the bcrypt pool, key reloads.
    @Test func metricsHaveContent() async throws {
        let server = try Server([
            "LATCHKEY_REQUIRE_EMAIL_VERIFICATION": "false", "LATCHKEY_REFRESH_REUSE_GRACE": "0", "LATCHKEY_KEY_RELOAD_INTERVAL": "1s",
        ])
        try await server.waitUntilHealthy()
        let account = ["email": "counted@example.com", "password": "Secret#Pass1", "name": "C"]
        let registered = try await server.call("/auth/register", account)
        let accessToken = try #require(registered.json["accessToken"] as? String)
        #expect(try await server.post("/auth/login", ["email": account["email"]!, "password": "Wrong#Pass1"]) == 401)
        let login = try await server.call("/auth/login", ["email": account["email"]!, "password": account["password"]!])
        let refreshToken = try #require(login.json["refreshToken"] as? String)
        #expect(try await server.post("/auth/refresh", ["refreshToken": refreshToken]) == 200)
        #expect(try await server.post("/auth/refresh", ["refreshToken": refreshToken]) == 401)
        let change = ["currentPassword": account["password"]!, "newPassword": "Secret#Pass2"]
        #expect(try await server.call("/auth/change-password", change, bearer: accessToken).status == 204)
        // The outbox depth is measured every 5 s, the key set reloaded every second.
        try await Task.sleep(for: .seconds(6))
        let (data, _) = try await URLSession.shared.data(from: URL(string: "\(server.base)/metrics")!)
        let metrics = String(decoding: data, as: UTF8.self)
        for line in [
            "latchkey_registrations_total 1", #"latchkey_logins_total{outcome="succeeded"} 1"#, #"latchkey_logins_total{outcome="failed"} 1"#,
            #"latchkey_refreshes_total{outcome="rotated"} 1"#, #"latchkey_refreshes_total{outcome="reused"} 1"#,
            "latchkey_mails_queued_total 1", "latchkey_mails_sent_total 1", "latchkey_mail_outbox_pending 0.0",
            "latchkey_bcrypt_queue_length 0.0", "latchkey_bcrypt_running 0.0",
        ] {
            #expect(metrics.contains(line), "\(line)")
        }
        #expect(metrics.contains(#"latchkey_signing_key_reloads_total{trigger="interval",outcome="ok"}"#))
        #expect(metrics.contains(#"http_route="/auth/refresh",http_request_method="POST",http_response_status_code="401""#))
        kill(server.process.processIdentifier, SIGTERM)
        _ = try await server.waitForExit()
    }

    /// The abuse limits' counters, and the log line when an account starts to wait: a hash prefix, never the email.
    @Test func rateLimitMetricsAndLog() async throws {
        let server = try Server(["LATCHKEY_LOGIN_FREE_FAILURES": "2", "LATCHKEY_RATE_LIMIT_REGISTER": "1/1m"])
        try await server.waitUntilHealthy()
        let wrong = ["email": "victim@example.com", "password": "Wrong#Pass1"]
        #expect(try await server.post("/auth/login", wrong) == 401)
        #expect(try await server.post("/auth/login", wrong) == 401)
        #expect(try await server.post("/auth/login", wrong) == 429)
        let registration = ["email": "new@example.com", "password": "Secret#Pass1", "name": "N"]
        #expect(try await server.post("/auth/register", registration) == 201)
        #expect(try await server.post("/auth/register", registration) == 429)
        let (data, _) = try await URLSession.shared.data(from: URL(string: "\(server.base)/metrics")!)
        let metrics = String(decoding: data, as: UTF8.self)
        #expect(metrics.contains(#"latchkey_rate_limited_total{limit="login_account"} 1"#))
        #expect(metrics.contains(#"latchkey_rate_limited_total{limit="register"} 1"#))
        #expect(metrics.contains(#"latchkey_logins_total{outcome="failed"} 2"#))
        kill(server.process.processIdentifier, SIGTERM)
        _ = try await server.waitForExit()
        let log = server.log
        #expect(log.contains("login.throttled"))
        #expect(!log.contains("victim"))
    }
}
