import Foundation
import Hummingbird
import HummingbirdBcrypt
import HummingbirdTesting
import LatchkeyAPI
import LatchkeyTestSupport
import NIOCore
import Testing

/// v2's refinements of what the server accepts: one stored form per mailbox and per password, names without
/// layout characters, and JSON that every reader reads alike.
@Suite struct InputNormalizationTests {
    func register(_ client: Client, email: String, password: String = "Tr1cky!pass", name: String = "Ada") async throws -> TestResponse {
        try await client.request(.post, "/auth/register", json: ["email": email, "password": password, "name": name])
    }

    @Test func emailsMustBeDotAtomMailboxes() async throws {
        try await TestApp().run { client in
            let longLocal = String(repeating: "a", count: 65) + "@example.com"
            // 257 bytes.
            let longAddress = "a@" + Array(repeating: String(repeating: "b", count: 60), count: 4).joined(separator: ".") + ".example.com"
            for email in [
                "<script>@x.test", "a b@x.test", "a..b@x.test", ".a@x.test", "a.@x.test", "a(b)@x.test", "\"a\"@x.test", "a,b@x.test", "a;b@x.test",
                "a:b@x.test", "a\\b@x.test", "a[b]@x.test", "a@b", "a@[127.0.0.1]", "a@-x.test", "a@x_y.test", "a@x..test", "a@@x.test", "@x.test",
                "a\u{2028}b@x.test", "a\u{00A0}b@x.test", longLocal, longAddress,
            ] {
                let response = try await register(client, email: email)
                #expect(response.status == .badRequest, "\(email)")
                #expect(response.error?.details?.map(\.field) == ["email"], "\(email)")
            }
            for email in ["o'brien+tag@example.com", "x_y-z.w@sub.example.co.uk", String(repeating: "a", count: 64) + "@example.com"] {
                #expect(try await register(client, email: email).status == .created, "\(email)")
            }
        }
    }

    @Test func oneMailboxIsOneAccount() async throws {
        try await TestApp().run { client in
            // An IDN domain is stored IDNA-encoded, so both spellings are one account.
            let idn = try await register(client, email: "U@Bücher.Example")
            #expect(idn.status == .created)
            #expect(try idn.decode(RegisterResponse.self).user.email == "u@xn--bcher-kva.example")
            #expect(try await register(client, email: "u@xn--bcher-kva.example").error?.error == .emailAlreadyRegistered)
            #expect(try await client.login(email: "u@bücher.example").status == .ok)
            #expect(try await client.login(email: "u@XN--BCHER-KVA.example").status == .ok)
            // NFD and NFC spellings of a local part are one account.
            let nfd = try await register(client, email: "jo\u{0308}rg@example.com")
            #expect(try nfd.decode(RegisterResponse.self).user.email == "j\u{00F6}rg@example.com")
            #expect(try nfd.decode(RegisterResponse.self).user.email.utf8.count == "j\u{00F6}rg@example.com".utf8.count)
            #expect(try await register(client, email: "j\u{00F6}rg@example.com").error?.error == .emailAlreadyRegistered)
            #expect(try await client.login(email: "j\u{00F6}rg@example.com").status == .ok)
        }
    }

    /// An account whose address earlier versions accepted, and today's rules do not, still signs in and gets reset mail.
    @Test func accountsWithAddressesFromBeforeTheRulesStillSignIn() async throws {
        let app = TestApp()
        try await app.run { client in
            #expect(try await register(client, email: "legacy-form@example.com").status == .created)
            try await app.database.execute("UPDATE users SET email = 'a..b@x_y.test' WHERE email = 'legacy-form@example.com'")
            #expect(try await client.login(email: " A..B@X_Y.test ").status == .ok)
            #expect(try await client.login(email: "a..b@x_y.test", password: "Wrong!pass1").status == .unauthorized)
            #expect(try await register(client, email: "a..b@x_y.test").status == .badRequest)
        }
    }

    @Test func passwordsAreCompared() async throws {
        let app = TestApp()
        try await app.run { client in
            // Typed decomposed, logged in with precomposed, and the other way round.
            #expect(try await register(client, email: "nfd@example.com", password: "Pa\u{0308}ssw0rd!x").status == .created)
            #expect(try await client.login(email: "nfd@example.com", password: "P\u{00E4}ssw0rd!x").status == .ok)
            #expect(try await register(client, email: "nfc@example.com", password: "P\u{00E4}ssw0rd!y").status == .created)
            #expect(try await client.login(email: "nfc@example.com", password: "Pa\u{0308}ssw0rd!y").status == .ok)
            // An account whose hash was made from the bytes as typed (before normalisation) still logs in.
            #expect(try await register(client, email: "legacy@example.com").status == .created)
            let legacyHash = Bcrypt.hash("Pa\u{0308}ssw0rd!z", cost: 4)
            try await app.database.execute("UPDATE users SET password_hash = '\(legacyHash)' WHERE email = 'legacy@example.com'")
            #expect(try await client.login(email: "legacy@example.com", password: "Pa\u{0308}ssw0rd!z").status == .ok)
            #expect(try await client.login(email: "legacy@example.com", password: "Pa\u{0308}ssw0rd!w").status == .unauthorized)
        }
    }

    @Test func namesRefuseLayoutCharacters() async throws {
        try await TestApp().run { client in
            for name in ["a\u{2028}b", "a\u{2029}b", "a\u{200E}b", "a\u{202E}b", "a\u{FEFF}b", "a\u{0007}b", "a\nb"] {
                let response = try await register(client, email: "n-\(UUID())@example.com", name: name)
                #expect(response.error?.details?.map(\.field) == ["name"], "\(name.unicodeScalars.map(\.value))")
            }
            let pair = try await client.register(name: "Zoë 🚀 O'Neil")
            #expect(pair.user.name == "Zoë 🚀 O'Neil")
            let patched = try await client.request(.patch, "/auth/me", json: ["name": "x\u{2028}y"], bearer: pair.accessToken!)
            #expect(patched.error?.details?.map(\.field) == ["name"])
        }
    }

    @Test func duplicatedKeysAndBadUTF8AreInvalidJSON() async throws {
        try await TestApp().run { client in
            _ = try await client.register(email: "dup-key@example.com")
            for body in [
                #"{"email":"dup-key@example.com","password":"Wrong!pass1","password":"Tr1cky!pass"}"#,
                #"{"email":"dup-key@example.com","password":"Tr1cky!pass","p\u0061ssword":"x"}"#,
                #"{"email":"dup-key@example.com","password":"Tr1cky!pass","nested":{"a":1,"a":2}}"#,
            ] {
                let response = try await client.request(.post, "/auth/login", body: body)
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.error?.error == .invalidJSON, "\(body)")
            }
            // The same member name in two objects is fine.
            let twoObjects = #"{"email":"dup-key@example.com","password":"Tr1cky!pass","a":{"email":1},"b":[{"email":2}]}"#
            #expect(try await client.request(.post, "/auth/login", body: twoObjects).status == .ok)
            var invalidUTF8 = Array(#"{"email":"x"#.utf8)
            invalidUTF8 += [0xFF, 0xFE]
            invalidUTF8 += Array(#"@example.com","password":"Tr1cky!pass"}"#.utf8)
            let response = try await client.client.executeRequest(
                uri: "/auth/login",
                method: .post,
                headers: [.contentType: "application/json"],
                body: ByteBuffer(bytes: invalidUTF8)
            )
            #expect(response.status == .badRequest)
            #expect(response.error?.error == .invalidJSON)
        }
    }
}
