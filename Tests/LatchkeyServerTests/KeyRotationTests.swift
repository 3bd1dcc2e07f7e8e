import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyAPI
import LatchkeyCore
import LatchkeyServer
import Logging
import Testing

/// Signing-key rotation while the server runs: `keys rotate` and `keys retire` act on the database, the server picks
/// them up on its reload interval, or at once for a token whose `kid` it does not know yet.
@Suite struct KeyRotationTests {
    static let logger = Logger(label: "test")

    /// The services a `latchkey keys …` command uses, on the app's database, with extra settings.
    static func command(_ app: TestApp, _ settings: [String: String] = [:]) async throws -> LatchkeyServices {
        let reader = TestApp(app.environment.merging(settings) { $1 }, database: app.database).reader
        return try await LatchkeyServices.open(configuration: LatchkeyConfiguration(reader: reader), logger: logger)
    }

    static func kid(of token: String) throws -> String {
        let header = String(token.split(separator: ".")[0])
        let padded = header.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            .padding(toLength: (header.count + 3) / 4 * 4, withPad: "=", startingAt: 0)
        let json = try JSONSerialization.jsonObject(with: try #require(Data(base64Encoded: padded))) as? [String: Any]
        return try #require(json?["kid"] as? String)
    }

    static func jwksKids(_ client: Client) async throws -> Set<String> {
        let keys = try #require(try await client.request(.get, "/.well-known/jwks.json").json["keys"] as? [[String: Any]])
        return Set(keys.compactMap { $0["kid"] as? String })
    }

    /// Polls until `condition` holds (the server reloads every second here), for at most 10 s.
    static func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<100 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test func rotateThenRetireWithoutAFailedRequest() async throws {
        let app = TestApp(["LATCHKEY_KEY_RELOAD_INTERVAL": "1s"])
        try await app.run { client in
            let email = "keys-\(UUID())@example.com".lowercased()
            let first = try await client.register(email: email)
            let oldKid = try Self.kid(of: first.accessToken!)
            let keys = try await Self.command(app)
            try await keys.whileConnected {
                // Published at once, signing only after the activation delay (5 minutes by default).
                let pending = try await keys.keys.rotate(client: .commandLine, logger: Self.logger)
                #expect(try await Self.eventually { try await Self.jwksKids(client) == [oldKid, pending.kid] })
                let meanwhile = try await client.login(email: email).decode(TokenPairResponse.self)
                #expect(try Self.kid(of: meanwhile.accessToken) == oldKid)

                let immediate = try await Self.command(app, ["LATCHKEY_KEY_ACTIVATION_DELAY": "0"])
                let active = try await immediate.whileConnected { try await immediate.keys.rotate(client: .commandLine, logger: Self.logger) }
                #expect(try await Self.eventually { try await Self.jwksKids(client).contains(active.kid) })
                let fresh = try await client.login(email: email).decode(TokenPairResponse.self)
                #expect(try Self.kid(of: fresh.accessToken) == active.kid)
                // Tokens of both keys verify.
                #expect(try await client.request(.get, "/auth/me", bearer: first.accessToken!).status == .ok)
                #expect(try await client.request(.get, "/auth/me", bearer: fresh.accessToken).status == .ok)

                // The signing key cannot be retired; the old one can, and its tokens are refused from then on.
                await #expect(throws: AuthError.self) { try await keys.keys.retire(kid: active.kid, client: .commandLine, logger: Self.logger) }
                await #expect(throws: AuthError.self) { try await keys.keys.retire(kid: "unknown", client: .commandLine, logger: Self.logger) }
                try await keys.keys.retire(kid: oldKid, client: .commandLine, logger: Self.logger)
                #expect(try await Self.eventually { try await !Self.jwksKids(client).contains(oldKid) })
                #expect(try await client.request(.get, "/auth/me", bearer: first.accessToken!).error?.error == .tokenInvalid)
                #expect(try await client.request(.get, "/auth/me", bearer: fresh.accessToken).status == .ok)
            }
        }
    }

    /// A retirement whose clock is behind (it read the time before the new key activated) finds no key that signs
    /// without the one it retires, and is refused: an algorithm never loses its last key that signs.
    @Test func theLastKeyThatSignsIsNeverRetired() async throws {
        let app = TestApp()
        try await app.run { _ in
            let keys = try await Self.command(app, ["LATCHKEY_KEY_ACTIVATION_DELAY": "0"])
            try await keys.whileConnected {
                let first = try #require(try await keys.keys.signingKey())
                let next = try await keys.keys.rotate(client: .commandLine, logger: Self.logger)
                try await keys.keys.retire(kid: first.kid, client: .commandLine, logger: Self.logger)
                let behind = next.activatesAt.addingTimeInterval(-1)
                await #expect(throws: AuthError.self) {
                    try await keys.keys.retire(kid: next.kid, client: .commandLine, logger: Self.logger, now: behind)
                }
                #expect(try await keys.keys.signingKey()?.kid == next.kid)
            }
        }
    }

    /// Two retirements at once, one with its clock before the newer key's activation and one after: each alone is
    /// allowed, and both would leave no key. Whichever comes second sees the first, and is refused.
    @Test func retirementsAtOnceLeaveAKeyThatSigns() async throws {
        let app = TestApp()
        try await app.run { _ in
            let keys = try await Self.command(app, ["LATCHKEY_KEY_ACTIVATION_DELAY": "0"])
            try await keys.whileConnected {
                for _ in 0..<10 {
                    let older = try #require(try await keys.keys.signingKey())
                    let newer = try await keys.keys.rotate(client: .commandLine, logger: Self.logger)
                    func retired(_ key: SigningKey, now: Date) async -> Bool {
                        (try? await keys.keys.retire(kid: key.kid, client: .commandLine, logger: Self.logger, now: now)) != nil
                    }
                    async let newerRetired = retired(newer, now: newer.activatesAt.addingTimeInterval(-1))
                    async let olderRetired = retired(older, now: newer.activatesAt.addingTimeInterval(1))
                    #expect(await [newerRetired, olderRetired].filter { $0 }.count <= 1)
                    #expect(try await keys.keys.signingKey() != nil)
                }
            }
        }
    }

    /// With an instance that does not reload on its own, and another that has rotated in a key it does not know yet:
    /// `body` gets a token of the new key, its kid, and the first instance's client.
    static func withATokenOfAKeyNotYetLoaded(_ body: @escaping @Sendable (TestApp, String, String, Client) async throws -> Void) async throws {
        // No interval reload during the test: only the unknown kid can make the server look.
        let app = TestApp(["LATCHKEY_KEY_RELOAD_INTERVAL": "1h"])
        try await app.run { client in
            let email = "unknown-kid-\(UUID())@example.com".lowercased()
            let pair = try await client.register(email: email)
            let other = try await Self.command(app, ["LATCHKEY_KEY_ACTIVATION_DELAY": "0"])
            try await other.whileConnected {
                let key = try await other.keys.rotate(client: .commandLine, logger: Self.logger)
                // Another instance that already knows the new key signs a token for the same session.
                try await other.issuer.reload()
                let user = try #require(try await other.accounts.account(email: email))
                let sessionID = try await other.sessions.authenticate(accessToken: pair.accessToken!).sessionID
                let now = Date()
                let session = Session(
                    id: sessionID,
                    userID: user.id,
                    createdAt: now,
                    lastUsedAt: now,
                    expiresAt: now.addingTimeInterval(3600),
                    userAgent: nil,
                    ip: nil,
                    revokedAt: nil,
                    amr: ["pwd"],
                    authTime: now
                )
                let token = try await other.issuer.issue(for: user, session: session, now: now)
                #expect(try Self.kid(of: token) == key.kid)
                try await body(app, token, key.kid, client)
            }
        }
    }

    @Test func aTokenOfAKeyNotYetLoadedMakesTheServerReloadOnce() async throws {
        try await Self.withATokenOfAKeyNotYetLoaded { _, token, kid, client in
            // Requests that arrive together all wait for the one reload, none is refused meanwhile.
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<20 { group.addTask { try await client.request(.get, "/auth/me", bearer: token).status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: .ok, count: 20))
            #expect(try await Self.jwksKids(client).contains(kid))
        }
    }

    /// An unknown kid that the server cannot look up (the key table is unreachable) may be a new key's: 503 with
    /// `Retry-After`, not a 401 that would make the client drop its token; once the table is back, the token is good.
    @Test func anUnknownKidThatCannotBeLookedUpIsUnavailableNotInvalid() async throws {
        try await Self.withATokenOfAKeyNotYetLoaded { app, token, _, client in
            try await app.database.execute("ALTER TABLE signing_keys RENAME TO signing_keys_away")
            let response = try await client.request(.get, "/auth/me", bearer: token)
            try await app.database.execute("ALTER TABLE signing_keys_away RENAME TO signing_keys")
            #expect(response.status == .serviceUnavailable && response.error?.error == .serviceUnavailable)
            #expect(response.headers[.retryAfter] != nil)

            // The next reload may start once the interval since the failed one has passed.
            try await Task.sleep(for: TokenIssuer.unknownKidReloadInterval)
            #expect(try await client.request(.get, "/auth/me", bearer: token).status == .ok)
        }
    }
}
