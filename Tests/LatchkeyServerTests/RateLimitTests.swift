import Foundation
import HummingbirdTesting
import LatchkeyAPI
import Testing

/// The contract's § "Abuse limits" through the real app on a real socket. Clients connect from addresses of their
/// own in 127/8, so each is a client IP of its own; the suite runs on both backends.
@Suite struct RateLimitTests {
    static let password = "Tr1cky!pass"
    static let throttle = ["LATCHKEY_LOGIN_FREE_FAILURES": "3", "LATCHKEY_LOGIN_DELAY": "2s", "LATCHKEY_LOGIN_MAX_DELAY": "4s", "LATCHKEY_PORT": "0"]

    /// A live server with `environment`; `body` gets its port.
    func live(_ environment: [String: String], _ body: @Sendable (Client, Int) async throws -> Void) async throws {
        try await TestApp(environment.merging(["LATCHKEY_PORT": "0"]) { $1 }).runLive { client in
            try await body(client, try #require(client.client.port))
        }
    }

    func login(_ port: Int, from ip: String, email: String, password: String = Self.password) async throws -> RawResponse {
        try await RawConnection.request(port: port, from: ip, "POST", "/auth/login", json: ["email": email, "password": password])
    }

    func expectLimited(_ response: RawResponse, retryAfter range: ClosedRange<Int>, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == 429, sourceLocation: sourceLocation)
        #expect(response.json["error"] as? String == "RATE_LIMITED", sourceLocation: sourceLocation)
        let retryAfter = response.headers["retry-after"].flatMap { Int($0) }
        #expect(retryAfter.map(range.contains) == true, "Retry-After \(String(describing: retryAfter))", sourceLocation: sourceLocation)
    }

    /// Waits out a 429's `Retry-After`.
    func waitOut(_ response: RawResponse) async throws {
        try await Task.sleep(for: .seconds(Double(response.headers["retry-after"].flatMap { Int($0) } ?? 0) + 0.3))
    }

    @Test(arguments: [true, false])
    func accountThrottleSequence(knownAccount: Bool) async throws {
        // Waits of 6 s and then 12 s (the cap): long enough to check them while the whole suite runs on two cores.
        try await live(Self.throttle.merging(["LATCHKEY_LOGIN_DELAY": "6s", "LATCHKEY_LOGIN_MAX_DELAY": "12s"]) { $1 }) {
            (client: Client, port: Int) async throws in
            let email = "throttled-\(UUID())@example.com"
            if knownAccount { try await client.register(email: email) }
            // Failures from three IPs count together.
            for ip in ["127.0.0.2", "127.0.0.3", "127.0.0.4"] {
                #expect(try await login(port, from: ip, email: email, password: "wrong-password").status == 401)
            }
            // The wait: even the right password is not evaluated, from any IP, and does not extend the wait.
            let waiting = try await login(port, from: "127.0.0.5", email: email)
            expectLimited(waiting, retryAfter: 1...6)
            expectLimited(try await login(port, from: "127.0.0.2", email: email.uppercased(), password: "wrong-password"), retryAfter: 1...6)
            try await waitOut(waiting)
            // After the wait, each further failure doubles it (6 s → 12 s, the cap), and the cap holds.
            for _ in 0..<2 {
                let failedAt = ContinuousClock.now
                #expect(try await login(port, from: "127.0.0.2", email: email, password: "wrong-password").status == 401)
                let doubled = try await login(port, from: "127.0.0.3", email: email)
                // The 12 s wait runs from the failure, and on a busy machine the next answer may come seconds later: what is
                // left of it is at least 12 s less the time since (an undoubled wait would leave at most 6 s).
                let elapsed = (ContinuousClock.now - failedAt) / .seconds(1)
                expectLimited(doubled, retryAfter: max(Int((12 - elapsed).rounded(.down)), 1)...12)
                try await waitOut(doubled)
            }
            // A successful login resets the count: three free failures again.
            #expect(try await login(port, from: "127.0.0.3", email: email).status == (knownAccount ? 200 : 401))
            guard knownAccount else { return }
            for _ in 0..<3 {
                #expect(try await login(port, from: "127.0.0.4", email: email, password: "wrong-password").status == 401)
            }
            expectLimited(try await login(port, from: "127.0.0.4", email: email), retryAfter: 1...6)
        }
    }

    @Test func concurrentAttemptsCannotPassTheBudget() async throws {
        try await live(["LATCHKEY_LOGIN_FREE_FAILURES": "5", "LATCHKEY_LOGIN_DELAY": "60s"]) { (client: Client, port: Int) async throws in
            let email = "concurrent-\(UUID())@example.com"
            try await client.register(email: email)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for attempt in 0..<30 {
                    group.addTask {
                        try await login(port, from: "127.0.0.\(10 + attempt % 6)", email: email, password: "wrong-\(attempt)").status
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 401 }.count == 5)
            #expect(statuses.filter { $0 == 429 }.count == 25)
        }
    }

    @Test func passwordResetEndsTheWait() async throws {
        let smtp = SMTPTestServer()
        try await smtp.start()
        try await live(
            smtp.environment.merging(Self.throttle) { $1 }.merging(["LATCHKEY_LOGIN_DELAY": "15m", "LATCHKEY_REQUIRE_EMAIL_VERIFICATION": "false"]) {
                $1
            }
        ) { (client: Client, port: Int) async throws in
            let email = "owner-\(UUID())@example.com"
            try await client.register(email: email)
            for _ in 0..<3 { #expect(try await login(port, from: "127.0.0.2", email: email, password: "wrong-password").status == 401) }
            expectLimited(try await login(port, from: "127.0.0.3", email: email), retryAfter: 890...900)
            #expect(try await client.request(.post, "/auth/forgot-password", json: ["email": email]).status == .accepted)
            let token = try #require(try await smtp.waitForMessages(1).first?.token(after: "/auth/reset-password"))
            let reset = try await client.request(.post, "/auth/reset-password", json: ["token": token, "newPassword": "Brand!new42"])
            #expect(reset.status == .noContent)
            #expect(try await login(port, from: "127.0.0.3", email: email, password: "Brand!new42").status == 200)
        }
        smtp.stop()
    }

    /// Each limited route, with a budget of 2, from one IP; another IP and another route are unaffected.
    @Test(arguments: [
        ("LATCHKEY_RATE_LIMIT_REGISTER", "/auth/register"), ("LATCHKEY_RATE_LIMIT_LOGIN", "/auth/login"),
        ("LATCHKEY_RATE_LIMIT_EMAIL", "/auth/forgot-password"), ("LATCHKEY_RATE_LIMIT_EMAIL", "/auth/verify-email/resend"),
        ("LATCHKEY_RATE_LIMIT_TOKEN", "/auth/verify-email"), ("LATCHKEY_RATE_LIMIT_TOKEN", "/auth/reset-password"),
        ("LATCHKEY_RATE_LIMIT_REFRESH", "/auth/refresh"),
    ])
    func perIPBudget(variable: String, path: String) async throws {
        try await live([variable: "2/1m"]) { (client: Client, port: Int) async throws in
            func send(from ip: String) async throws -> RawResponse {
                let body: [String: any Sendable] = [
                    "email": "ip-\(UUID())@example.com", "password": Self.password, "name": "Ada", "token": "no-such-token",
                    "newPassword": "Brand!new42", "refreshToken": "no-such-token",
                ]
                return try await RawConnection.request(port: port, from: ip, "POST", path, json: body)
            }
            #expect(try await send(from: "127.0.0.2").status != 429)
            #expect(try await send(from: "127.0.0.2").status != 429)
            let limited = try await send(from: "127.0.0.2")
            expectLimited(limited, retryAfter: 1...30)
            #expect(try await send(from: "127.0.0.3").status != 429)
        }
    }

    @Test func limitedRegistrationHasNoEffect() async throws {
        try await live(["LATCHKEY_RATE_LIMIT_REGISTER": "1/1m"]) { (_: Client, port: Int) async throws in
            func register(_ email: String, from ip: String) async throws -> Int {
                try await RawConnection.request(
                    port: port,
                    from: ip,
                    "POST",
                    "/auth/register",
                    json: ["email": email, "password": Self.password, "name": "Ada"]
                ).status
            }
            let email = "once-\(UUID())@example.com"
            #expect(try await register("first-\(UUID())@example.com", from: "127.0.0.2") == 201)
            #expect(try await register(email, from: "127.0.0.2") == 429)
            #expect(try await register(email, from: "127.0.0.3") == 201)
        }
    }

    @Test func forwardingHeadersFromUntrustedPeersChangeNoBucket() async throws {
        try await live(["LATCHKEY_RATE_LIMIT_REGISTER": "1/1m"]) { (_: Client, port: Int) async throws in
            for (index, forwarded) in ["", "203.0.113.9", "203.0.113.10"].enumerated() {
                let headers = forwarded.isEmpty ? [:] : ["X-Forwarded-For": forwarded, "X-Real-IP": forwarded, "Forwarded": "for=\(forwarded)"]
                let response = try await RawConnection.request(
                    port: port,
                    from: "127.0.0.2",
                    "POST",
                    "/auth/register",
                    json: ["email": "spoof-\(UUID())@example.com", "password": Self.password, "name": "Ada"],
                    headers: headers
                )
                #expect(response.status == (index == 0 ? 201 : 429))
            }
        }
    }

    @Test func forwardedForFromATrustedProxyNamesTheBucket() async throws {
        try await live(["LATCHKEY_RATE_LIMIT_REGISTER": "1/1m", "LATCHKEY_TRUSTED_PROXIES": "127.0.0.2/32"]) { (_: Client, port: Int) async throws in
            func register(from ip: String, forwardedFor: String) async throws -> Int {
                try await RawConnection.request(
                    port: port,
                    from: ip,
                    "POST",
                    "/auth/register",
                    json: ["email": "proxied-\(UUID())@example.com", "password": Self.password, "name": "Ada"],
                    headers: ["X-Forwarded-For": forwardedFor]
                ).status
            }
            #expect(try await register(from: "127.0.0.2", forwardedFor: "203.0.113.1") == 201)
            #expect(try await register(from: "127.0.0.2", forwardedFor: "203.0.113.1") == 429)
            #expect(try await register(from: "127.0.0.2", forwardedFor: "203.0.113.2") == 201)
            // The right-most hop that is not a trusted proxy: what a client puts in front counts for nothing.
            #expect(try await register(from: "127.0.0.2", forwardedFor: "198.51.100.5, 203.0.113.2") == 429)
            // A peer that is not a trusted proxy is its own client IP.
            #expect(try await register(from: "127.0.0.3", forwardedFor: "203.0.113.3") == 201)
            #expect(try await register(from: "127.0.0.3", forwardedFor: "203.0.113.4") == 429)
        }
    }

    @Test func refreshHasItsOwnBudget() async throws {
        try await live(["LATCHKEY_RATE_LIMIT_LOGIN": "2/1m", "LATCHKEY_RATE_LIMIT_REFRESH": "600/5m"]) { (client: Client, port: Int) async throws in
            let email = "nat-\(UUID())@example.com"
            try await client.register(email: email)
            var refreshToken = ""
            for _ in 0..<2 {
                let login = try await login(port, from: "127.0.0.2", email: email)
                #expect(login.status == 200)
                refreshToken = try #require(login.json["refreshToken"] as? String)
            }
            expectLimited(try await login(port, from: "127.0.0.2", email: email), retryAfter: 1...30)
            let refresh = try await RawConnection.request(
                port: port,
                from: "127.0.0.2",
                "POST",
                "/auth/refresh",
                json: ["refreshToken": refreshToken]
            )
            #expect(refresh.status == 200)
        }
    }

    @Test func mailPerRecipientKeepsTheAnswer() async throws {
        let app = TestApp(["LATCHKEY_MAIL_PER_RECIPIENT": "2/1h", "LATCHKEY_PORT": "0"])
        try await app.runLive { client in
            let email = "mailcap-\(UUID())@example.com"
            try await client.register(email: email)
            var bodies: Set<String> = []
            for _ in 0..<4 {
                let forgot = try await client.request(.post, "/auth/forgot-password", json: ["email": email])
                #expect(forgot.status == .accepted)
                bodies.insert(String(buffer: forgot.body))
            }
            #expect(bodies.count == 1)
            let mails = try await app.database.rows("SELECT recipient FROM mail_outbox")
            #expect(mails.count == 2, "\(mails)")
        }
    }

    /// The registration's verification mail counts too: with 2/1h, register and two resends send two mails.
    @Test func mailPerRecipientCountsTheRegistrationMail() async throws {
        let app = TestApp(["LATCHKEY_MAIL_PER_RECIPIENT": "2/1h", "LATCHKEY_REQUIRE_EMAIL_VERIFICATION": "true", "LATCHKEY_PORT": "0"])
        try await app.runLive { client in
            let email = "mailcap-register-\(UUID())@example.com"
            try await client.register(email: email)
            for _ in 0..<2 {
                #expect(try await client.request(.post, "/auth/verify-email/resend", json: ["email": email]).status == .accepted)
            }
            let mails = try await app.database.rows("SELECT recipient FROM mail_outbox")
            #expect(mails.count == 2, "\(mails)")
        }
    }

    @Test func badRatesFailAtStart() async throws {
        for value in ["30", "0/1m", "30/0s", "x/1m", "30/1w", "-1/1m"] {
            await #expect(throws: (any Error).self) { try await TestApp(["LATCHKEY_RATE_LIMIT_LOGIN": value]).build() }
        }
    }
}
