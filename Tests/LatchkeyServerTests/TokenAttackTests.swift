import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import LatchkeyAPI
import LatchkeyCore
import LatchkeyTestSupport
import Testing

/// Forged access tokens of every known kind must be refused with `TOKEN_INVALID` (or `TOKEN_EXPIRED`).
@Suite struct TokenAttackTests {
    /// A registered user plus the server's own signing key, read from its database as an attacker with a dump would.
    struct Target {
        let app: TestApp
        let accessToken: String
        let claims: [String: Any]
        let kid: String
        let serverKey: Curve25519.Signing.PrivateKey
    }

    func withTarget(_ body: @Sendable (Client, Target) async throws -> Void) async throws {
        let app = TestApp()
        try await app.run { client in
            let pair = try await client.register()
            let parts = pair.accessToken!.split(separator: ".").map(String.init)
            let claims = try JSONSerialization.jsonObject(with: base64URLDecode(parts[1])) as! [String: Any]
            let header = try JSONSerialization.jsonObject(with: base64URLDecode(parts[0])) as! [String: Any]
            let kid = header["kid"] as! String
            // The stored key is sealed under the key-encryption key, which an attacker in these tests is given.
            let sealed = try #require(try await app.database.rows("SELECT private_key FROM signing_keys").first?["private_key"])
            let kek =
                try KeyEncryptionKey.configured(reader: app.reader.latchkey)
                ?? KeyEncryptionKey.loadOrCreate(file: String(app.database.url.dropFirst("sqlite://".count)) + ".kek")
            let raw = try SigningKeySealer(keyEncryptionKey: kek).open(SigningKey(kid: kid, algorithm: .eddsa, privateKey: sealed, createdAt: Date()))
            let key = try Curve25519.Signing.PrivateKey(rawRepresentation: try #require(Data(base64Encoded: raw.privateKey)))
            let target = Target(app: app, accessToken: pair.accessToken!, claims: claims, kid: kid, serverKey: key)
            try await body(client, target)
        }
    }

    func expectRefused(
        _ client: Client,
        _ token: String,
        _ code: ErrorCode = .tokenInvalid,
        sourceLocation: SourceLocation = #_sourceLocation
    )
        async throws
    {
        let response = try await client.request(.get, "/auth/me", bearer: token)
        #expect(response.status == .unauthorized, sourceLocation: sourceLocation)
        #expect(response.error?.error == code, sourceLocation: sourceLocation)
    }

    @Test func headerAttacks() async throws {
        try await withTarget { client, target in
            let attacker = Curve25519.Signing.PrivateKey()
            let claims = target.claims
            // The genuine token works.
            #expect(try await client.request(.get, "/auth/me", bearer: target.accessToken).status == .ok)
            // alg none, with and without a signature part.
            let none = encode(["alg": "none", "kid": target.kid, "typ": "JWT"], claims)
            try await expectRefused(client, none + ".")
            try await expectRefused(client, none)
            // alg switch / key confusion: HS256 keyed with the public key.
            let publicKey = target.serverKey.publicKey.rawRepresentation
            for secret in [publicKey, Data(base64URLEncode(publicKey).utf8)] {
                try await expectRefused(client, hmacSigned(["alg": "HS256", "kid": target.kid], claims, secret: secret))
            }
            // The server's own key under an unknown kid, and with no kid: JWTKit would fall back to the default key.
            try await expectRefused(client, signed(["alg": "EdDSA", "kid": "unknown-kid"], claims, key: target.serverKey))
            try await expectRefused(client, signed(["alg": "EdDSA"], claims, key: target.serverKey))
            // The attacker's key, under our kid, embedded as jwk, or pointed to by jku.
            try await expectRefused(client, signed(["alg": "EdDSA", "kid": target.kid], claims, key: attacker))
            let jwk: [String: Any] = ["kty": "OKP", "crv": "Ed25519", "x": base64URLEncode(attacker.publicKey.rawRepresentation)]
            try await expectRefused(client, signed(["alg": "EdDSA", "kid": target.kid, "jwk": jwk], claims, key: attacker))
            try await expectRefused(client, signed(["alg": "EdDSA", "jwk": jwk], claims, key: attacker))
            try await expectRefused(
                client,
                signed(["alg": "EdDSA", "kid": target.kid, "jku": "http://127.0.0.1:1/jwks.json"], claims, key: attacker)
            )
            // An algorithm the server does not use, even with a valid signature shape.
            try await expectRefused(client, signed(["alg": "ES256", "kid": target.kid], claims, key: target.serverKey))
        }
    }

    @Test func bodyAndSignatureAttacks() async throws {
        try await withTarget { client, target in
            let parts = target.accessToken.split(separator: ".").map(String.init)
            // Tampered claims under the original signature.
            var admin = target.claims
            admin["role"] = "admin"
            let tamperedPayload = base64URLEncode(try JSONSerialization.data(withJSONObject: admin))
            try await expectRefused(client, "\(parts[0]).\(tamperedPayload).\(parts[2])")
            // Stripped or garbled signature.
            try await expectRefused(client, "\(parts[0]).\(parts[1]).")
            try await expectRefused(client, "\(parts[0]).\(parts[1])")
            try await expectRefused(client, "\(parts[0]).\(parts[1]).AAAA")
            // Garbage of every shape.
            for garbage in ["a.b.c", "....", "eyJ.eyJ.eyJ", String(repeating: "x", count: 5000), "\(parts[0]).\(parts[1]).\(parts[2]).x"] {
                try await expectRefused(client, garbage)
            }
        }
    }

    @Test func claimAttacksSignedWithTheRealKey() async throws {
        try await withTarget { client, target in
            let header: [String: Any] = ["alg": "EdDSA", "kid": target.kid, "typ": "JWT"]
            // Re-signing the genuine claims with the real key works: the forgery tests below are meaningful.
            #expect(try await client.request(.get, "/auth/me", bearer: signed(header, target.claims, key: target.serverKey)).status == .ok)
            func with(_ key: String, _ value: Any?) -> [String: Any] {
                var claims = target.claims
                claims[key] = value
                return claims
            }
            let now = Int(Date().timeIntervalSince1970)
            try await expectRefused(client, signed(header, with("iss", "evil"), key: target.serverKey))
            try await expectRefused(client, signed(header, with("aud", "other-service"), key: target.serverKey))
            try await expectRefused(client, signed(header, with("aud", ["latchkey", "x"]), key: target.serverKey))
            try await expectRefused(client, signed(header, with("exp", now - 60), key: target.serverKey), .tokenExpired)
            try await expectRefused(client, signed(header, with("exp", Double(now) + 100.5), key: target.serverKey))
            try await expectRefused(client, signed(header, with("exp", nil), key: target.serverKey))
            try await expectRefused(client, signed(header, with("sub", "not-a-uuid"), key: target.serverKey))
            try await expectRefused(client, signed(header, with("sid", UUID().uuidString), key: target.serverKey))
            try await expectRefused(client, signed(header, with("sub", UUID().uuidString), key: target.serverKey))
        }
    }

    /// v2: what a lenient JWT library lets through is refused too.
    @Test func strictHeaderAndClaims() async throws {
        try await withTarget { client, target in
            let header: [String: Any] = ["alg": "EdDSA", "kid": target.kid, "typ": "JWT"]
            func with(_ key: String, _ value: Any?) -> [String: Any] {
                var claims = target.claims
                claims[key] = value
                return claims
            }
            let now = Int(Date().timeIntervalSince1970)
            let claimsJSON = String(decoding: try JSONSerialization.data(withJSONObject: target.claims), as: UTF8.self)
            let headerJSON = #"{"alg":"EdDSA","kid":"\#(target.kid)","typ":"JWT"}"#
            // Re-signed raw JSON works, so the refusals below are about the one change each makes.
            #expect(try await client.request(.get, "/auth/me", bearer: signedRaw(headerJSON, claimsJSON, key: target.serverKey)).status == .ok)
            // A member twice, in the header or the claims (escaped spellings of a name are the same name).
            try await expectRefused(client, signedRaw(#"{"alg":"EdDSA","kid":"\#(target.kid)","alg":"EdDSA"}"#, claimsJSON, key: target.serverKey))
            let doubledRole = "{\"role\":\"admin\"," + claimsJSON.dropFirst()
            try await expectRefused(client, signedRaw(headerJSON, doubledRole, key: target.serverKey))
            let escapedRole = "{\"r\\u006fle\":\"admin\"," + claimsJSON.dropFirst()
            try await expectRefused(client, signedRaw(headerJSON, escapedRole, key: target.serverKey))
            // Any crit, even an empty one or null.
            for crit in [["exp"], [], NSNull()] as [Any] {
                var critical = header
                critical["crit"] = crit
                try await expectRefused(client, signed(critical, target.claims, key: target.serverKey))
            }
            // Not yet valid, issued in the future, or living longer than the configured 15 minutes.
            try await expectRefused(client, signed(header, with("nbf", now + 3600), key: target.serverKey))
            try await expectRefused(client, signed(header, with("iat", now + 3600), key: target.serverKey))
            try await expectRefused(client, signed(header, with("exp", (target.claims["iat"] as! Int) + 901), key: target.serverKey))
            // Within the leeway, and an nbf in the past, are fine.
            #expect(try await client.request(.get, "/auth/me", bearer: signed(header, with("nbf", now - 60), key: target.serverKey)).status == .ok)
        }
    }

    @Test func tokensHaveIntegerTimesAndAKid() async throws {
        try await withTarget { _, target in
            #expect(target.claims["iat"] is Int)
            #expect(target.claims["exp"] is Int)
            let iat = try #require(target.claims["iat"] as? Int)
            #expect(target.claims["exp"] as? Int == iat + 900)
            #expect(target.claims["iss"] as? String == "latchkey")
            #expect(target.claims["aud"] as? String == "latchkey")
            #expect(target.claims["role"] as? String == "user")
            #expect(target.claims["jti"] as? String != nil)
            #expect(!target.kid.isEmpty)
            let header = try JSONSerialization.jsonObject(with: base64URLDecode(String(target.accessToken.split(separator: ".")[0])))
            #expect((header as? [String: Any])?["alg"] as? String == "EdDSA")
        }
    }
}

func encode(_ header: [String: Any], _ claims: [String: Any]) -> String {
    let h = base64URLEncode(try! JSONSerialization.data(withJSONObject: header))
    let p = base64URLEncode(try! JSONSerialization.data(withJSONObject: claims))
    return "\(h).\(p)"
}

func signed(_ header: [String: Any], _ claims: [String: Any], key: Curve25519.Signing.PrivateKey) throws -> String {
    let input = encode(header, claims)
    return "\(input).\(base64URLEncode(try key.signature(for: Data(input.utf8))))"
}

func signedRaw(_ headerJSON: String, _ claimsJSON: String, key: Curve25519.Signing.PrivateKey) throws -> String {
    let input = "\(base64URLEncode(Data(headerJSON.utf8))).\(base64URLEncode(Data(claimsJSON.utf8)))"
    return "\(input).\(base64URLEncode(try key.signature(for: Data(input.utf8))))"
}

func hmacSigned(_ header: [String: Any], _ claims: [String: Any], secret: Data) -> String {
    let input = encode(header, claims)
    let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: secret))
    return "\(input).\(base64URLEncode(Data(mac)))"
}

func base64URLEncode(_ data: Data) -> String {
    data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

func base64URLDecode(_ text: String) -> Data {
    var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
    return Data(base64Encoded: base64)!
}
