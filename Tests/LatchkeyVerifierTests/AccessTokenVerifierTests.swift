import Crypto
import Foundation
import LatchkeyAPI
import LatchkeyTestSupport
import LatchkeyVerifier
import Testing

/// `AccessTokenVerifier` against a real `latchkey serve`: good tokens, the contract's attacks, key rotation, the server
/// going away, and a flood of made-up `kid`s.
@Suite struct AccessTokenVerifierTests {
    static let settings = [
        "LATCHKEY_REQUIRE_EMAIL_VERIFICATION": "false", "LATCHKEY_KEY_ACTIVATION_DELAY": "0", "LATCHKEY_KEY_RELOAD_INTERVAL": "1s",
        "LATCHKEY_RATE_LIMIT_LOGIN": "off", "LATCHKEY_RATE_LIMIT_REGISTER": "off",
    ]

    static func verifier(
        _ server: ServerProcess,
        issuer: String = "latchkey",
        audience: String = "latchkey",
        refetch: Duration = .seconds(5)
    )
        -> AccessTokenVerifier
    {
        AccessTokenVerifier(
            configuration: .init(serverURL: URL(string: server.base)!, issuer: issuer, audience: audience, unknownKidRefetchInterval: refetch)
        )
    }

    /// A fresh account's access token and user id.
    static func login(_ server: ServerProcess, email: String = "user-\(UUID())@example.com") async throws -> (token: String, userID: String) {
        let registered = try await server.call("/auth/register", ["email": email, "password": "Tr1cky!pass", "name": "V"])
        let user = try #require(registered.json["user"] as? [String: Any])
        return (try #require(registered.json["accessToken"] as? String), try #require(user["id"] as? String))
    }

    @Test func acceptsGoodTokensAndRefusesEachAttack() async throws {
        let server = try ServerProcess(Self.settings)
        defer { server.terminate() }
        try await server.waitUntilHealthy()
        let verifier = Self.verifier(server)
        let (token, userID) = try await Self.login(server)

        let claims = try await verifier.verify(token)
        #expect(claims.sub == userID && claims.role == "user" && claims.iss == "latchkey")

        let parts = token.split(separator: ".").map(String.init)
        var header = try #require(JSONSerialization.jsonObject(with: Token.decode(parts[0])) as? [String: Any])
        let kid = try #require(header["kid"] as? String)
        var payload = try #require(JSONSerialization.jsonObject(with: Token.decode(parts[1])) as? [String: Any])
        payload["role"] = "admin"
        header["alg"] = "HS256"
        let attacks: [(String, String)] = [
            ("alg none", Token.make(["alg": "none", "kid": kid], Token.decode(parts[1]), signature: "")),
            ("alg none, signed", Token.make(["alg": "none", "kid": kid], Token.decode(parts[1]), signature: parts[2])),
            ("HS256 keyed with the public key", try Token.hs256(header: header, claims: Token.decode(parts[1]), key: Data(kid.utf8))),
            ("no kid", Token.make(["alg": "EdDSA"], Token.decode(parts[1]), signature: parts[2])),
            ("unknown kid", Token.make(["alg": "EdDSA", "kid": "made-up"], Token.decode(parts[1]), signature: parts[2])),
            ("a claim changed", Token.make(["alg": "EdDSA", "kid": kid], try JSONSerialization.data(withJSONObject: payload), signature: parts[2])),
            ("crit", Token.make(["alg": "EdDSA", "kid": kid, "crit": ["exp"]], Token.decode(parts[1]), signature: parts[2])),
            ("signature of another token", parts[0] + "." + parts[1] + "." + (try await Self.login(server)).token.split(separator: ".")[2]),
            ("two segments", parts[0] + "." + parts[1]),
            ("padded base64", parts[0] + "=." + parts[1] + "." + parts[2]),
            ("empty", ""),
        ]
        for (name, attack) in attacks {
            await #expect(throws: AccessTokenError.tokenInvalid, "\(name)") { try await verifier.verify(attack) }
        }
        await #expect(throws: AccessTokenError.tokenExpired) { try await verifier.verify(token, now: Date().addingTimeInterval(3600)) }
        await #expect(throws: AccessTokenError.tokenInvalid) { try await Self.verifier(server, issuer: "someone-else").verify(token) }
        await #expect(throws: AccessTokenError.tokenInvalid) { try await Self.verifier(server, audience: "another-api").verify(token) }
        // Within the leeway of its expiry a token is still good; past it, expired.
        let expiry = Date(timeIntervalSince1970: Double(claims.exp))
        #expect(try await verifier.verify(token, now: expiry.addingTimeInterval(4)).sub == userID)
        await #expect(throws: AccessTokenError.tokenExpired) { try await verifier.verify(token, now: expiry.addingTimeInterval(6)) }
    }

    /// `keys rotate` while tokens of the old key are in use: every token verifies throughout; once the old key is
    /// retired, a verifier reading the new key set refuses its tokens.
    @Test func keyRotationFailsNoVerification() async throws {
        let server = try ServerProcess(Self.settings)
        defer { server.terminate() }
        try await server.waitUntilHealthy()
        let verifier = Self.verifier(server, refetch: .milliseconds(100))
        let (old, _) = try await Self.login(server)
        let oldKid = try Token.kid(old)
        _ = try await verifier.verify(old)

        #expect(try server.command(["keys", "rotate"]).status == 0)
        var fresh = old
        for _ in 0..<50 where try Token.kid(fresh) == oldKid {
            try await Task.sleep(for: .milliseconds(200))
            fresh = try await Self.login(server).token
        }
        #expect(try Token.kid(fresh) != oldKid)
        #expect(try await verifier.verify(fresh).role == "user")
        #expect(try await verifier.verify(old).role == "user")

        // The server publishes the retirement at its next key reload (every second here, later on a busy machine).
        #expect(try server.command(["keys", "retire", oldKid]).status == 0)
        var refused = false
        for _ in 0..<50 where !refused {
            try await Task.sleep(for: .milliseconds(200))
            do {
                _ = try await Self.verifier(server).verify(old)
            } catch {
                refused = error == .tokenInvalid
            }
        }
        #expect(refused)
        #expect(try await Self.verifier(server).verify(fresh).role == "user")
    }

    /// The last good key set serves while the server is down; when it is back, a key rotated in meanwhile is learnt
    /// on its first token.
    @Test func keepsVerifyingWhileTheServerIsDownAndRecovers() async throws {
        let database = TestDatabase()
        let first = try ServerProcess(Self.settings, database: database)
        try await first.waitUntilHealthy()
        let verifier = Self.verifier(first, refetch: .milliseconds(100))
        let (token, _) = try await Self.login(first)
        _ = try await verifier.verify(token)
        first.terminate()
        _ = try await first.waitForExit()

        #expect(try await verifier.verify(token).role == "user")
        await #expect(throws: AccessTokenError.tokenInvalid) {
            try await verifier.verify(Token.make(["alg": "EdDSA", "kid": "while-down"], Data("{}".utf8), signature: "c2ln"))
        }
        #expect(try first.command(["keys", "rotate"]).status == 0)

        let second = try ServerProcess(Self.settings, database: database, port: first.port)
        defer { second.terminate() }
        try await second.waitUntilHealthy()
        try await Task.sleep(for: .milliseconds(150))
        let (rotated, _) = try await Self.login(second)
        #expect(try Token.kid(rotated) != Token.kid(token))
        #expect(try await verifier.verify(rotated).role == "user")
        #expect(try await verifier.verify(token).role == "user")
    }

    /// 1,000 tokens naming made-up `kid`s cost the server a handful of JWKS requests, counted by its own metrics.
    @Test func aFloodOfUnknownKidsCostsAHandfulOfFetches() async throws {
        let server = try ServerProcess(Self.settings)
        defer { server.terminate() }
        try await server.waitUntilHealthy()
        let verifier = Self.verifier(server)
        let (token, _) = try await Self.login(server)
        let parts = token.split(separator: ".").map(String.init)
        _ = try await verifier.verify(token)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<1000 {
                let forged = Token.make(["alg": "EdDSA", "kid": UUID().uuidString], Token.decode(parts[1]), signature: parts[2])
                group.addTask { await #expect(throws: AccessTokenError.tokenInvalid) { try await verifier.verify(forged) } }
                if index % 50 == 49 { try await group.waitForAll() }
            }
        }
        let metrics = try await server.metrics()
        let fetches = metrics.split(separator: "\n").filter { $0.hasPrefix("hb_requests{") && $0.contains(#"http_route="/.well-known/jwks.json""#) }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
        #expect(fetches >= 1 && fetches <= 5, "\(fetches) JWKS requests")
        #expect(try await verifier.verify(token).role == "user")
    }
}

/// Hand-made tokens for the attacks: base64url segments of any header and claims.
enum Token {
    static func encode(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) -> Data {
        let standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        return Data(base64Encoded: standard + String(repeating: "=", count: (4 - standard.count % 4) % 4)) ?? Data()
    }

    static func make(_ header: [String: Any], _ claims: Data, signature: String) -> String {
        encode((try? JSONSerialization.data(withJSONObject: header)) ?? Data()) + "." + encode(claims) + "." + signature
    }

    static func hs256(header: [String: Any], claims: Data, key: Data) throws -> String {
        let signingInput = encode(try JSONSerialization.data(withJSONObject: header)) + "." + encode(claims)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(signingInput.utf8), using: SymmetricKey(data: key))
        return signingInput + "." + encode(Data(mac))
    }

    static func kid(_ token: String) throws -> String {
        let header = try JSONSerialization.jsonObject(with: decode(String(token.split(separator: ".")[0]))) as? [String: Any]
        return try #require(header?["kid"] as? String)
    }
}
