import Foundation
import LatchkeyAPI
import LatchkeyClient
import LatchkeyTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `LatchkeyClient` against a real `latchkey serve`: the account routes, single-flight refresh, and one sign-out when
/// the session ends.
@Suite struct LatchkeyClientTests {
    static let settings = ["LATCHKEY_REQUIRE_EMAIL_VERIFICATION": "false", "LATCHKEY_REFRESH_REUSE_GRACE": "0"]

    /// Both transports run every test that sends requests: URLSession is the default on Apple platforms, and on Linux
    /// it is swift-corelibs-foundation's.
    enum Transport: String, CaseIterable, CustomTestStringConvertible {
        case asyncHTTPClient, urlSession

        var testDescription: String { rawValue }

        var transport: any HTTPTransport {
            switch self {
            case .asyncHTTPClient: .asyncHTTPClient
            case .urlSession: .urlSession
            }
        }
    }

    static func client(
        _ server: ServerProcess,
        _ transport: Transport,
        store: any TokenStore = InMemoryTokenStore(),
        margin: TimeInterval = 30
    ) -> LatchkeyClient {
        LatchkeyClient(serverURL: URL(string: server.base)!, store: store, refreshMargin: margin, transport: transport.transport)
    }

    /// `POST /auth/refresh` requests the server has answered, from its metrics, once two reads 100 ms apart agree: the
    /// server counts a request just after its answer has gone out.
    static func refreshes(_ server: ServerProcess) async throws -> Double {
        func read() async throws -> Double {
            try await server.metrics().split(separator: "\n")
                .filter { $0.hasPrefix("hb_requests{") && $0.contains(#"http_route="/auth/refresh""#) }
                .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
        }
        var last = try await read()
        for _ in 0..<20 {
            try await Task.sleep(for: .milliseconds(100))
            let now = try await read()
            if now == last { break }
            last = now
        }
        return last
    }

    /// A login of an account with TOTP stops at the challenge, which a code or a recovery code completes; step-up adds
    /// the factor to a password-only session.
    @Test(arguments: Transport.allCases) func secondFactor(_ transport: Transport) async throws {
        let server = try ServerProcess(Self.settings)
        defer { server.terminate() }
        try await server.waitUntilHealthy()
        let client = Self.client(server, transport)
        let email = "client-mfa-\(UUID())@example.com".lowercased()
        try await client.register(email: email, password: "Tr1cky!pass", name: "Ada")
        let enrolment = try await client.enrollTOTP(password: "Tr1cky!pass")
        let app = try AuthenticatorApp(secret: enrolment.secret)
        let recoveryCodes = try await client.confirmTOTP(code: try await app.nextCode())
        #expect(recoveryCodes.count == 10)
        #expect(try await client.secondFactors().totp?.enabled == true)

        // The registration's session signed in with the password alone: step-up adds the code.
        #expect(try await client.stepUp(code: try await app.nextCode()).email == email)
        #expect(try await client.sessions().sessions.first { $0.current }?.amr == ["pwd", "otp", "mfa"])

        let other = Self.client(server, transport)
        #expect(try await other.login(email: email, password: "Tr1cky!pass") == .secondFactorRequired(methods: ["totp", "recovery"]))
        await #expect(throws: LatchkeyClientError.self) { try await other.me() }
        #expect(try await other.verifyMFA(recoveryCode: recoveryCodes[0]).email == email)
        #expect(try await other.sessions().sessions.first { $0.current }?.amr == ["pwd", "recovery", "mfa"])
        do {
            try await other.verifyMFA(code: "123456")
            Issue.record("a second verify without a pending challenge must fail")
        } catch let error as LatchkeyClientError {
            #expect(error == .signedOut)
        }
    }

    /// A passkey registered and used through the client's calls, which take and give WebAuthn's JSON forms.
    @Test(arguments: Transport.allCases) func passkeys(_ transport: Transport) async throws {
        let server = try ServerProcess(Self.settings.merging(["LATCHKEY_APP_URL": "https://example.com"]) { $1 })
        defer { server.terminate() }
        try await server.waitUntilHealthy()
        let client = Self.client(server, transport)
        let email = "client-passkey-\(UUID())@example.com".lowercased()
        try await client.register(email: email, password: "Tr1cky!pass", name: "Ada")
        let options = try await client.passkeyRegistrationOptions(password: "Tr1cky!pass")
        #expect(options.rp.id == "example.com" && options.user.name == email)
        let authenticator = try SoftwareAuthenticator(.edDSA, rpID: "example.com", origin: "https://example.com")
        let created = try await client.registerPasskey(try Self.decoded(authenticator.registrationJSON(challenge: options.challenge)), name: "Phone")
        #expect(try await client.passkeys().map(\.name) == ["Phone"])

        let other = Self.client(server, transport)
        let request = try await other.passkeySignInOptions()
        let assertion = try authenticator.assertionJSON(challenge: request.challenge, userHandle: options.user.id)
        #expect(try await other.signInWithPasskey(try Self.decoded(assertion)) == .signedIn(try await client.me()))
        #expect(try await other.sessions().sessions.first { $0.current }?.amr == ["hwk", "mfa"])
        #expect(try await other.renamePasskey(id: created.id, name: "Laptop").name == "Laptop")
        try await other.removePasskey(id: created.id, password: "Tr1cky!pass")
        #expect(try await client.passkeys().isEmpty)
    }

    /// A JSON object as the value `toJSON()` would have given, decoded into the client's type.
    static func decoded<T: Decodable>(_ object: [String: any Sendable]) throws -> T {
        try JSONDecoder().decode(T.self, from: JSONSerialization.data(withJSONObject: object))
    }

    @Test(arguments: Transport.allCases) func accountRoutes(_ transport: Transport) async throws {
        let server = try ServerProcess(Self.settings.merging(["LATCHKEY_LOGIN_FREE_FAILURES": "1", "LATCHKEY_LOGIN_DELAY": "2s"]) { $1 })
        defer { server.terminate() }
        try await server.waitUntilHealthy()
        let client = Self.client(server, transport)
        let email = "client-\(UUID())@example.com".lowercased()
        let registered = try await client.register(email: email, password: "Tr1cky!pass", name: "Ada")
        #expect(registered.user.email == email && registered.accessToken != nil)
        #expect(try await client.me().name == "Ada")
        #expect(try await client.updateProfile(name: "Ada L.").name == "Ada L.")
        try await client.login(email: email, password: "Tr1cky!pass")
        #expect(try await client.sessions().sessions.count == 2)
        try await client.changePassword(current: "Tr1cky!pass", new: "Brand!new42")
        #expect(try await client.sessions().sessions.count == 1)
        try await client.refresh()
        // Your own API, with the same token handling: here the server's own route.
        let (body, response) = try await client.authorizedRequest(URLRequest(url: URL(string: server.base + "/auth/me")!))
        #expect(response.statusCode == 200 && String(decoding: body, as: UTF8.self).contains(#""name":"Ada L.""#))

        await #expect {
            try await client.login(email: email, password: "Wr0ng!pass")
        } throws: { error in
            (error as? LatchkeyClientError)?.code == .invalidCredentials
        }
        // The second failure starts the wait (one free failure here): the next attempt is told how long to wait.
        _ = try? await client.login(email: email, password: "Wr0ng!pass")
        await #expect {
            try await client.login(email: email, password: "Brand!new42")
        } throws: { error in
            guard case .refused(429, let answer, let retryAfter?) = error as? LatchkeyClientError else { return false }
            return answer.error == .rateLimited && (1...2).contains(retryAfter)
        }
        try await client.forgotPassword(email: email)
        try await client.logout()
        await #expect(throws: LatchkeyClientError.signedOut) { try await client.me() }
    }

    /// Fifty calls that find the access token expired cause one refresh, and all go on with its result; when the server
    /// says the token expired although the client thought it good, the same.
    @Test(arguments: Transport.allCases) func concurrentCallsShareOneRefresh(_ transport: Transport) async throws {
        let server = try ServerProcess(Self.settings.merging(["LATCHKEY_ACCESS_TOKEN_TTL": "6s"]) { $1 })
        defer { server.terminate() }
        try await server.waitUntilHealthy()
        let store = InMemoryTokenStore()
        let client = Self.client(server, transport, store: store, margin: 0)
        try await client.register(email: "flight-\(UUID())@example.com", password: "Tr1cky!pass", name: "F")
        var tokens = try #require(await store.load())
        tokens.accessTokenExpiresAt = .distantPast
        await store.save(tokens)

        let before = try await Self.refreshes(server)
        let names = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<50 { group.addTask { try await client.me().name } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(names == Array(repeating: "F", count: 50))
        #expect(try await Self.refreshes(server) - before == 1)

        // The client believes its token good for an hour; the server says it has expired.
        try await Task.sleep(for: .seconds(7))
        tokens = try #require(await store.load())
        tokens.accessTokenExpiresAt = Date() + 3600
        await store.save(tokens)
        let second = try await Self.refreshes(server)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<50 { group.addTask { _ = try await client.me() } }
            try await group.waitForAll()
        }
        #expect(try await Self.refreshes(server) - second == 1)
    }

    /// A margin longer than the token's life is cut to half of it: a 10 s token is used for 5 s, then refreshed once.
    /// With a 4 s token it failed twice on a machine loaded by the whole parallel suite, where one call can take
    /// seconds: a 2 s half-life left too little room. The counts are in the messages.
    @Test func aShortTokenIsNotRefreshedAtEveryCall() async throws {
        let server = try ServerProcess(Self.settings.merging(["LATCHKEY_ACCESS_TOKEN_TTL": "10s"]) { $1 })
        defer { server.terminate() }
        try await server.waitUntilHealthy()
        let client = Self.client(server, .asyncHTTPClient, margin: 30)
        try await client.register(email: "short-\(UUID())@example.com", password: "Tr1cky!pass", name: "S")
        let before = try await Self.refreshes(server)
        for _ in 0..<3 { _ = try await client.me() }
        let early = try await Self.refreshes(server) - before
        #expect(early == 0, "refreshes before the half-life: \(early)")
        try await Task.sleep(for: .seconds(5.5))
        for _ in 0..<3 { _ = try await client.me() }
        let late = try await Self.refreshes(server) - before
        #expect(late == 1, "refreshes after the half-life: \(late)")
    }

    /// A refresh token spent elsewhere (stolen, say): the one refresh is refused as reuse, the client signs out once and
    /// every waiting call gets that error.
    @Test(arguments: Transport.allCases) func aRefusedRefreshSignsOutOnce(_ transport: Transport) async throws {
        let server = try ServerProcess(Self.settings)
        defer { server.terminate() }
        try await server.waitUntilHealthy()
        let store = InMemoryTokenStore()
        let client = Self.client(server, transport, store: store)
        try await client.register(email: "stolen-\(UUID())@example.com", password: "Tr1cky!pass", name: "S")
        var tokens = try #require(await store.load())
        #expect(try await server.post("/auth/refresh", ["refreshToken": tokens.refreshToken]) == 200)
        tokens.accessTokenExpiresAt = .distantPast
        await store.save(tokens)

        let before = try await Self.refreshes(server)
        let errors = await withTaskGroup(of: LatchkeyClientError?.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    do {
                        _ = try await client.me()
                        return nil
                    } catch {
                        return error as? LatchkeyClientError
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(errors.allSatisfy { $0?.code == .refreshTokenReused })
        #expect(try await Self.refreshes(server) - before == 1)
        #expect(await store.load() == nil)
        await #expect(throws: LatchkeyClientError.signedOut) { try await client.me() }
    }

    @Test func fileStoreIsTheOwnersOnly() async throws {
        let url = FileManager.default.temporaryDirectory.appending(path: "tokens-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: url) }
        let store: any TokenStore = FileTokenStore(url: url)
        let tokens = StoredTokens(accessToken: "a", refreshToken: "r", accessTokenExpiresAt: Date(timeIntervalSince1970: 1_800_000_000))
        try await store.save(tokens)
        try await store.save(tokens)
        #expect(try await store.load() == tokens)
        let mode = try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        try await store.save(nil)
        #expect(try await store.load() == nil)
    }
}
