import Configuration
import Testing

@testable import LatchkeyAPI
@testable import LatchkeyCore

@Suite struct ConfigurationParsingTests {
    func reader(_ values: [String: String]) -> ConfigReader {
        ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: values)).latchkey
    }

    @Test(arguments: [("30s", 30), ("15m", 900), ("24h", 86400), ("7d", 604_800), ("90", 90), (" 5m ", 300)])
    func durations(text: String, seconds: Int) throws {
        #expect(try reader(["LATCHKEY_ACCESS_TOKEN_TTL": text]).seconds("accessTokenTtl", default: 1) == seconds)
    }

    @Test(arguments: ["15 minutes", "-1s", "1.5h", "m", "10w", "99999999999d", "0"])
    func badDurationsNameTheVariable(text: String) {
        let error = #expect(throws: ConfigurationError.self) { try reader(["LATCHKEY_ACCESS_TOKEN_TTL": text]).seconds("accessTokenTtl", default: 1) }
        #expect(error?.description.hasPrefix("LATCHKEY_ACCESS_TOKEN_TTL ") == true)
    }

    @Test func zeroOnlyWhereAllowed() throws {
        #expect(try reader(["LATCHKEY_REFRESH_REUSE_GRACE": "0"]).seconds("refreshReuseGrace", default: 10, allowZero: true) == 0)
        #expect(try reader([:]).seconds("refreshReuseGrace", default: 10, allowZero: true) == 10)
    }

    @Test func flagsAndChoices() throws {
        for (text, value) in [("true", true), ("ON", true), ("1", true), ("no", false), ("off", false)] {
            #expect(try reader(["LATCHKEY_REQUIRE_EMAIL_VERIFICATION": text]).flag("requireEmailVerification", default: !value) == value)
        }
        #expect(throws: ConfigurationError.self) {
            try reader(["LATCHKEY_REQUIRE_EMAIL_VERIFICATION": "maybe"]).flag("requireEmailVerification", default: true)
        }
        #expect(try reader(["LATCHKEY_JWT_ALGORITHM": "es256"]).choice("jwt.algorithm", default: SigningAlgorithm.eddsa) == .es256)
    }

    @Test func variableNames() {
        #expect(ConfigurationError.variableName("jwt.accessTokenTtl") == "LATCHKEY_JWT_ACCESS_TOKEN_TTL")
        #expect(ConfigurationError.variableName("keyEncryptionKeyFile") == "LATCHKEY_KEY_ENCRYPTION_KEY_FILE")
    }

    /// Mail links default to the server itself, wherever it listens.
    @Test(arguments: [
        // A loopback host is written `localhost` (a WebAuthn relying party needs a name).
        ([:], "http://localhost:8080"),
        (["LATCHKEY_PORT": "9999"], "http://localhost:9999"),
        (["LATCHKEY_HOST": "127.0.0.2"], "http://localhost:8080"),
        (["LATCHKEY_HOST": "0.0.0.0", "LATCHKEY_PORT": "80"], "http://localhost:80"),
        (["LATCHKEY_HOST": "::"], "http://localhost:8080"),
        (["LATCHKEY_HOST": "::1", "LATCHKEY_PORT": "7000"], "http://localhost:7000"),
        (["LATCHKEY_HOST": "fd00::5"], "http://[fd00::5]:8080"),
        (["LATCHKEY_HOST": "127.example"], "http://127.example:8080"),
        (["LATCHKEY_HOST": "auth.internal"], "http://auth.internal:8080"),
        (["LATCHKEY_APP_URL": "https://app.example.com", "LATCHKEY_PORT": "9999"], "https://app.example.com"),
    ])
    func appURLDefaultsToTheListenAddress(environment: [String: String], appURL: String) throws {
        #expect(try MailConfiguration(reader: reader(environment)).appURL == appURL)
    }
}

@Suite struct StrictJSONTests {
    @Test(arguments: [
        #"{"a":1,"b":2}"#, #"{"a":{"a":1},"b":[{"a":1},{"a":2}]}"#, #"[{"a":1},{"a":1}]"#, #"{"a":"{\"a\":1,\"a\":2}"}"#, #"{"a\"b":1,"ab":2}"#,
        #"{"a":[1,{"b":2}],"b":3}"#, "{}", "[]", "\"text\"",
    ])
    func accepts(json: String) {
        #expect(StrictJSON.isStrict(Array(json.utf8)))
    }

    @Test(arguments: [#"{"a":1,"a":2}"#, #"{"x":{"a":1,"a":2}}"#, #"[{"a":1,"a":1}]"#, #"{"a":1,"\u0061":2}"#, #"{"a":[{}],"b":1,"a":3}"#])
    func refusesADuplicatedMember(json: String) {
        #expect(!StrictJSON.isStrict(Array(json.utf8)))
    }

    @Test func refusesBytesThatAreNotUTF8() {
        #expect(!StrictJSON.isStrict(Array(#"{"a":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)))
    }
}
