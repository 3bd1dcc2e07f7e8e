import Foundation
import Hummingbird
import HummingbirdTesting
import LatchkeyAPI
import LatchkeyCore
import LatchkeyServer
import LatchkeyTestSupport
import Testing

@Suite struct ConfigurationTests {
    /// Each bad setting stops start-up with a sentence that names the variable.
    @Test(arguments: [
        (["LATCHKEY_JWT_ALGORITHM": "HS256"], "LATCHKEY_JWT_SECRET"),
        (["LATCHKEY_JWT_ALGORITHM": "HS256", "LATCHKEY_JWT_SECRET": "too-short"], "LATCHKEY_JWT_SECRET"),
        (["LATCHKEY_JWT_ALGORITHM": "none"], "LATCHKEY_JWT_ALGORITHM"),
        (["LATCHKEY_BCRYPT_COST": "3"], "LATCHKEY_BCRYPT_COST"),
        (["LATCHKEY_BCRYPT_COST": "17"], "LATCHKEY_BCRYPT_COST"),
        (["LATCHKEY_BCRYPT_COST": "ten"], "LATCHKEY_BCRYPT_COST"),
        (["LATCHKEY_ACCESS_TOKEN_TTL": "15 minutes"], "LATCHKEY_ACCESS_TOKEN_TTL"),
        (["LATCHKEY_REFRESH_TOKEN_TTL": "0"], "LATCHKEY_REFRESH_TOKEN_TTL"),
        (["LATCHKEY_REFRESH_REUSE_GRACE": "-1s"], "LATCHKEY_REFRESH_REUSE_GRACE"),
        (["LATCHKEY_PORT": "99999"], "LATCHKEY_PORT"),
        (["LATCHKEY_REQUIRE_EMAIL_VERIFICATION": "maybe"], "LATCHKEY_REQUIRE_EMAIL_VERIFICATION"),
        (["LATCHKEY_DATABASE_URL": "sqlite:///nonexistent-dir/x/latchkey.sqlite"], "LATCHKEY_DATABASE_URL"),
        (["LATCHKEY_DATABASE_URL": "mysql://localhost/db"], "LATCHKEY_DATABASE_URL"),
        (["LATCHKEY_LOG_FORMAT": "xml"], "LATCHKEY_LOG_FORMAT"),
        (["LATCHKEY_REQUEST_HEADER_TIMEOUT": "soon"], "LATCHKEY_REQUEST_HEADER_TIMEOUT"),
        (["LATCHKEY_IDLE_TIMEOUT": "0"], "LATCHKEY_IDLE_TIMEOUT"),
        (["LATCHKEY_MAX_SESSIONS_PER_USER": "0"], "LATCHKEY_MAX_SESSIONS_PER_USER"),
        (["LATCHKEY_KEY_ENCRYPTION_KEY": "c2hvcnQ="], "LATCHKEY_KEY_ENCRYPTION_KEY"),
        (["LATCHKEY_KEY_ENCRYPTION_KEY": "", "LATCHKEY_KEY_ENCRYPTION_KEY_FILE": "/nonexistent/kek"], "LATCHKEY_KEY_ENCRYPTION_KEY_FILE"),
        (
            ["LATCHKEY_KEY_ENCRYPTION_KEY": "dGVzdC1rZXktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM=", "LATCHKEY_KEY_ENCRYPTION_KEY_FILE": "/x"],
            "LATCHKEY_KEY_ENCRYPTION_KEY_FILE"
        ),
        (["LATCHKEY_APP_URL": "ftp://x"], "LATCHKEY_APP_URL"),
        (["LATCHKEY_WEBAUTHN_RP_ID": "https://example.com"], "LATCHKEY_WEBAUTHN_RP_ID"),
        (["LATCHKEY_WEBAUTHN_RP_ID": "example.com", "LATCHKEY_WEBAUTHN_ORIGINS": "https://example.org"], "LATCHKEY_WEBAUTHN_ORIGINS"),
        (["LATCHKEY_WEBAUTHN_RP_ID": "example.com", "LATCHKEY_WEBAUTHN_ORIGINS": "https://notexample.com"], "LATCHKEY_WEBAUTHN_ORIGINS"),
        (["LATCHKEY_WEBAUTHN_RP_ID": "example.com", "LATCHKEY_WEBAUTHN_ORIGINS": "https://example.com/login"], "LATCHKEY_WEBAUTHN_ORIGINS"),
        (["LATCHKEY_WEBAUTHN_USER_VERIFICATION": "always"], "LATCHKEY_WEBAUTHN_USER_VERIFICATION"),
        (["LATCHKEY_APPLE_APP_IDS": "com.example.app"], "LATCHKEY_APPLE_APP_IDS"),
        (["LATCHKEY_ANDROID_APPS": "com.example.app"], "LATCHKEY_ANDROID_APPS"),
        (["LATCHKEY_ANDROID_APPS": "com.example.app=AB:CD"], "LATCHKEY_ANDROID_APPS"),
    ])
    func badSettingsNameTheVariable(environment: [String: String], variable: String) async throws {
        let error = await #expect(throws: ConfigurationError.self) { try await TestApp(environment).build() }
        #expect(error?.description.hasPrefix(variable) == true, "\(error?.description ?? "")")
    }

    @Test func passkeysDefaultToTheAppURLAndNormalizeTheAppsTheyServe() async throws {
        let config = try await LatchkeyConfiguration(reader: TestApp().reader).passkeys
        #expect(config.relyingParty.id == "localhost" && config.relyingParty.name == "Latchkey")
        #expect(config.relyingParty.origins.count == 1 && config.relyingParty.origins.first?.hasPrefix("http://localhost:") == true)
        #expect(config.userVerification == .preferred && config.appleAppIDs.isEmpty && config.androidApps.isEmpty && config.warning == nil)

        let fingerprint = String(repeating: "ab", count: 32)
        let set = try await LatchkeyConfiguration(
            reader: TestApp([
                "LATCHKEY_APP_URL": "https://auth.example.com", "LATCHKEY_WEBAUTHN_RP_ID": "Example.com", "LATCHKEY_PRODUCT_NAME": "Example",
                "LATCHKEY_WEBAUTHN_ORIGINS": "https://example.com, https://Auth.Example.com:8443,android:apk-key-hash:xyz",
                "LATCHKEY_WEBAUTHN_USER_VERIFICATION": "required", "LATCHKEY_APPLE_APP_IDS": "ABCDE12345.com.example.app",
                "LATCHKEY_ANDROID_APPS": "com.example.app=SHA256:\(fingerprint),com.example.app=\(String(repeating: "CD:", count: 31))CD",
            ]).reader
        ).passkeys
        #expect(set.relyingParty.id == "example.com" && set.relyingParty.name == "Example" && set.relyingParty.requiresUserVerification)
        #expect(set.relyingParty.origins == ["https://example.com", "https://auth.example.com:8443", "android:apk-key-hash:xyz"])
        #expect(set.appleAppIDs == ["ABCDE12345.com.example.app"])
        #expect(set.androidApps.map(\.package) == ["com.example.app"])
        #expect(set.androidApps.first?.fingerprints == ["AB", "CD"].map { Array(repeating: $0, count: 32).joined(separator: ":") })
        // An IP address starts, with a warning.
        let address = try await LatchkeyConfiguration(reader: TestApp(["LATCHKEY_WEBAUTHN_RP_ID": "192.0.2.1"]).reader).passkeys
        #expect(address.warning?.contains("192.0.2.1") == true)
    }

    /// Every PostgreSQL instance must seal and open with one key, so none is made up when it is missing.
    @Test func postgresNeedsAKeyEncryptionKey() async throws {
        let database = TestDatabase()
        guard !database.url.hasPrefix("sqlite:") else { return }
        let error = await #expect(throws: ConfigurationError.self) {
            try await TestApp(["LATCHKEY_KEY_ENCRYPTION_KEY": ""], database: database).build()
        }
        #expect(error?.description.hasPrefix("LATCHKEY_KEY_ENCRYPTION_KEY") == true, "\(error?.description ?? "")")
    }

    @Test func durationsAcceptEveryUnit() async throws {
        try await TestApp(["LATCHKEY_ACCESS_TOKEN_TTL": "2h", "LATCHKEY_REFRESH_TOKEN_TTL": "3d"]).run { client in
            let pair = try await client.register()
            #expect(pair.expiresIn == 7200)
            #expect(pair.refreshExpiresIn == 3 * 86400)
        }
        try await TestApp(["LATCHKEY_ACCESS_TOKEN_TTL": "90", "LATCHKEY_REFRESH_TOKEN_TTL": "30m"]).run { client in
            let pair = try await client.register()
            #expect(pair.expiresIn == 90)
            #expect(pair.refreshExpiresIn == 1800)
        }
    }

    @Test func issuerAndAudienceFromConfiguration() async throws {
        try await TestApp(["LATCHKEY_JWT_ISSUER": "https://auth.example.com", "LATCHKEY_JWT_AUDIENCE": "api"]).run { client in
            let pair = try await client.register()
            let claims = try JSONSerialization.jsonObject(with: base64URLDecode(String(pair.accessToken!.split(separator: ".")[1])))
            #expect((claims as? [String: Any])?["iss"] as? String == "https://auth.example.com")
            #expect((claims as? [String: Any])?["aud"] as? String == "api")
            #expect(try await client.request(.get, "/auth/me", bearer: pair.accessToken!).status == .ok)
        }
    }

    /// The key is generated once and kept: tokens survive a restart, and a second start does not add keys.
    @Test func signingKeysSurviveRestarts() async throws {
        let first = TestApp()
        let token = try await first.run { client in try await client.register().accessToken! }
        let second = TestApp(database: first.database)
        try await second.run { client in
            #expect(try await client.request(.get, "/auth/me", bearer: token).status == .ok)
            let keys = try #require(try await client.request(.get, "/.well-known/jwks.json").json["keys"] as? [Any])
            #expect(keys.count == 1)
        }
    }

    /// The private keys rest sealed under the KEK: the same database with another key-encryption key (a stolen copy, or
    /// SQLite's file without the key file beside it) cannot sign, and start-up says why.
    @Test func aDatabaseWithoutItsKeyEncryptionKeyCannotSign() async throws {
        let first = TestApp()
        _ = try await first.run { client in try await client.register().accessToken! }
        let otherKEK = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let thief = TestApp(["LATCHKEY_KEY_ENCRYPTION_KEY": otherKEK], database: first.database)
        await #expect {
            // Start-up (before the server listens) loads the keys.
            try await thief.run { _ in }
        } throws: { error in
            "\(error)".contains("does not open with this key-encryption key")
        }
        guard first.database.url.hasPrefix("sqlite://") else { return }
        // SQLite: a copy of the file alone gets a new key file, and the same answer.
        let path = String(first.database.url.dropFirst("sqlite://".count))
        let copy = FileManager.default.temporaryDirectory.appending(path: "latchkey-copy-\(UUID()).sqlite").path
        // The file and its write-ahead log: what a backup of the database holds.
        let files = ["", "-wal"].filter { FileManager.default.fileExists(atPath: path + $0) }
        for suffix in files { try FileManager.default.copyItem(atPath: path + suffix, toPath: copy + suffix) }
        defer { for suffix in ["", ".kek", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: copy + suffix) } }
        let stolen = TestApp(["LATCHKEY_DATABASE_URL": "sqlite://\(copy)"])
        await #expect {
            try await stolen.run { _ in }
        } throws: { error in
            "\(error)".contains("does not open with this key-encryption key")
        }
        let text = try files.map { try String(contentsOfFile: path + $0, encoding: .isoLatin1) }.joined()
        #expect(text.contains("sealed:v1:"))
    }

    @Test(arguments: [
        (["LATCHKEY_JWT_ALGORITHM": "ES256"], "ES256", "EC"),
        (["LATCHKEY_JWT_ALGORITHM": "RS256"], "RS256", "RSA"),
        (["LATCHKEY_JWT_ALGORITHM": "HS256", "LATCHKEY_JWT_SECRET": String(repeating: "s3cret!", count: 6)], "HS256", nil),
    ])
    func otherAlgorithms(environment: [String: String], alg: String, keyType: String?) async throws {
        try await TestApp(environment).run { client in
            let pair = try await client.register()
            let header = try JSONSerialization.jsonObject(with: base64URLDecode(String(pair.accessToken!.split(separator: ".")[0])))
            #expect((header as? [String: Any])?["alg"] as? String == alg)
            #expect((header as? [String: Any])?["kid"] as? String != nil)
            #expect(try await client.request(.get, "/auth/me", bearer: pair.accessToken!).status == .ok)
            let keys = try #require(try await client.request(.get, "/.well-known/jwks.json").json["keys"] as? [[String: Any]])
            if let keyType {
                #expect(keys.count == 1)
                #expect(keys[0]["kty"] as? String == keyType)
                #expect(keys[0]["d"] == nil && keys[0]["p"] == nil)
            } else {
                #expect(keys.isEmpty, "a shared secret is never published")
            }
            // A token of another algorithm is refused.
            let none = encode(["alg": "none", "kid": "x"], ["sub": pair.user.id]) + "."
            #expect(try await client.request(.get, "/auth/me", bearer: none).error?.error == .tokenInvalid)
        }
    }
}

@Suite struct PasswordPolicyTests {
    @Test func registerAnswersWithEveryProblem() async throws {
        try await TestApp().run { client in
            let response = try await client.request(
                .post,
                "/auth/register",
                json: ["email": "not-an-email", "password": "abc\u{0}", "name": ""]
            )
            #expect(response.status == .badRequest)
            let fields = Set(response.error?.details?.map(\.field) ?? [])
            #expect(fields == ["email", "password", "name"])
            #expect(!String(buffer: response.body).contains("abc"), "the password is never echoed")
        }
    }
}
