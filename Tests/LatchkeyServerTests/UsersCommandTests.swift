import Foundation
import HummingbirdBcrypt
import LatchkeyAPI
import LatchkeyTestSupport
import Testing

/// `latchkey users …`: the real executable, its output and exit codes, on the same database as a running app.
@Suite struct UsersCommandTests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String

        /// The `--json` lines.
        var objects: [[String: Any]] {
            stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
    }

    /// Runs `latchkey ARGUMENTS` on `database` with `input` on standard input.
    static func latchkey(_ arguments: [String], database: TestDatabase, input: String = "", environment: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = ServerProcess.executable
        process.arguments = arguments
        process.environment = database.environment.merging(["LATCHKEY_BCRYPT_COST": "4", "LATCHKEY_LOG_LEVEL": "warning"]) { $1 }
            .merging(environment) { $1 }
        let (stdin, stdout, stderr) = (Pipe(), Pipe(), Pipe())
        (process.standardInput, process.standardOutput, process.standardError) = (stdin, stdout, stderr)
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }

    @Test func createListShowAndChangeAccounts() throws {
        let database = TestDatabase()
        let created = try Self.latchkey(
            ["users", "create", "Ada@Example.com", "--name", "Ada", "--admin", "--verified", "--json"],
            database: database,
            input: "Analytical#Engine1\n"
        )
        #expect(created.status == 0, "\(created.stderr)")
        let ada = try #require(created.objects.first)
        #expect(ada["email"] as? String == "ada@example.com" && ada["role"] as? String == "admin" && ada["emailVerified"] as? Bool == true)
        #expect(ada["deletedAt"] is NSNull && ada["lastLoginAt"] is NSNull && ada["activeSessions"] as? Int == 0)

        #expect(
            try Self.latchkey(["users", "create", "bob@example.com", "--name", "Bob"], database: database, input: "Difference#Engine2\n").status == 0
        )
        let taken = try Self.latchkey(["users", "create", "ADA@example.com", "--name", "A"], database: database, input: "Analytical#Engine1\n")
        #expect(taken.status == 1)
        #expect(taken.stderr == "latchkey: An account with this email already exists.\n")
        let weak = try Self.latchkey(["users", "create", "carl@example.com", "--name", "C"], database: database, input: "password\n")
        #expect(weak.status == 1 && weak.stderr.contains("password must contain a digit"))
        let noPassword = try Self.latchkey(["users", "create", "dora@example.com", "--name", "D"], database: database)
        #expect(noPassword.status == 1 && noPassword.stderr.contains("standard input"))

        let table = try Self.latchkey(["users", "list"], database: database)
        #expect(table.status == 0)
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.count == 3 && lines[0].hasPrefix("EMAIL") && lines[1].hasPrefix("bob@example.com") && lines[2].hasPrefix("ada@example.com"))
        #expect(
            try Self.latchkey(["users", "list", "--email", "BOB", "--json"], database: database).objects.map { $0["name"] as? String } == ["Bob"]
        )
        #expect(try Self.latchkey(["users", "show", "ada@example.com", "--json"], database: database).objects.count == 1)
        let unknown = try Self.latchkey(["users", "show", "nobody@example.com"], database: database)
        #expect(unknown.status == 1 && unknown.stderr == "latchkey: No account has the email nobody@example.com.\n")

        let promoted = try Self.latchkey(["users", "promote", "bob@example.com", "--json"], database: database)
        #expect(promoted.objects.first?["role"] as? String == "admin")
        #expect(try Self.latchkey(["users", "demote", "bob@example.com", "--json"], database: database).objects.first?["role"] as? String == "user")
        #expect(try Self.latchkey(["users", "disable", "bob@example.com", "--json"], database: database).objects.first?["disabled"] as? Bool == true)
        #expect(try Self.latchkey(["users", "enable", "bob@example.com", "--json"], database: database).objects.first?["disabled"] as? Bool == false)
    }

    @Test func keysListRotateAndRetire() throws {
        let database = TestDatabase()
        let listed = try Self.latchkey(["keys", "list", "--json"], database: database)
        #expect(listed.status == 0, "\(listed.stderr)")
        let first = try #require(listed.objects.first)
        #expect(first["state"] as? String == "signing" && first["algorithm"] as? String == "EdDSA")
        #expect(!listed.stdout.contains("private") && !listed.stdout.contains("sealed"))
        let firstKid = try #require(first["kid"] as? String)

        let rotated = try Self.latchkey(["keys", "rotate", "--json"], database: database, environment: ["LATCHKEY_KEY_ACTIVATION_DELAY": "0"])
        let newKid = try #require(rotated.objects.first?["kid"] as? String)
        let states = try Self.latchkey(["keys", "list", "--json"], database: database).objects.map { $0["state"] as? String }
        #expect(states == ["published", "signing"])
        let refused = try Self.latchkey(["keys", "retire", newKid], database: database)
        #expect(refused.status == 1 && refused.stderr.contains("signing key"), "\(refused.status): \(refused.stderr)")
        #expect(try Self.latchkey(["keys", "retire", "nope"], database: database).status == 1)
        #expect(try Self.latchkey(["keys", "rotate", "--algorithm", "HS512"], database: database).status == 1)
        let retired = try Self.latchkey(["keys", "retire", firstKid], database: database)
        #expect(retired.status == 0, "\(retired.status): \(retired.stderr)")
        let table = try Self.latchkey(["keys", "list"], database: database).stdout
        #expect(table.contains("retired") && table.hasPrefix("KID"))

        // Each change is in the audit log, once, the first key's creation too; refused ones are not.
        let events = try Self.latchkey(["audit", "--json"], database: database).objects
        try #require(events.map { $0["type"] as? String } == ["key.retired", "key.rotated", "key.rotated"])
        #expect((events[0]["details"] as? [String: String]) == ["kid": firstKid])
        #expect((events[1]["details"] as? [String: Any])?["kid"] as? String == newKid)
        #expect((events[2]["details"] as? [String: Any])?["kid"] as? String == firstKid)
        #expect(events.map { $0["userAgent"] as? String } == ["latchkey command line", "latchkey command line", "latchkey server start"])
        #expect(events.allSatisfy { $0["ip"] is NSNull })
    }

    @Test func auditShowsTheLogNewestFirst() async throws {
        let app = TestApp()
        let email = "audit-\(UUID())@example.com".lowercased()
        try await app.run { client in
            _ = try await client.register(email: email)
            for password in ["Wr0ng!pass", "Tr1cky!pass"] { _ = try await client.login(email: email, password: password) }
        }
        let all = try Self.latchkey(["audit", "--email", email.uppercased(), "--json"], database: app.database)
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.objects.map { $0["type"] as? String } == ["login.succeeded", "login.failed", "user.registered"])
        let failed = try Self.latchkey(
            ["audit", "--email", email, "--type", "login.failed", "--since", "1h", "--limit", "5"],
            database: app.database
        )
        #expect(failed.stdout.hasPrefix("AT") && failed.stdout.contains("reason=wrong_password"))
        #expect(failed.stdout.split(separator: "\n").count == 2)
        let one = try Self.latchkey(["audit", "--limit", "1", "--json"], database: app.database)
        #expect(one.objects.count == 1)
        for refused in [["--type", "nonsense"], ["--since", "yesterday"], ["--limit", "0"], ["--email", "nobody@example.com"]] {
            let run = try Self.latchkey(["audit"] + refused, database: app.database)
            #expect(run.status == 1 && !run.stderr.isEmpty, "\(refused)")
        }
    }

    @Test func cleanupDeletesEndedSessionsOnce() async throws {
        let app = TestApp()
        try await app.run { client in
            let pair = try await client.register()
            #expect(try await client.request(.post, "/auth/logout", json: ["refreshToken": pair.refreshToken!]).status == .noContent)
        }
        // Ended sessions are kept a day: none goes yet.
        let first = try Self.latchkey(["cleanup", "--json"], database: app.database)
        #expect(first.status == 0, "\(first.stderr)")
        let report = try #require(first.objects.first)
        #expect(Set(report.keys) == ["sessions", "emailTokens", "mails", "rateLimitCounters", "auditEvents", "mfaChallenges", "passkeyChallenges"])
        #expect(report["sessions"] as? Int == 0)
        let table = try Self.latchkey(["cleanup"], database: app.database)
        #expect(table.status == 0 && table.stdout.hasPrefix("DELETED") && table.stdout.contains("sessions"))
    }

    /// Hashes from a Node or PHP app come over as they are, log in, and are rehashed at the configured cost.
    @Test func importTakesBcryptHashesOnceAndRehashesAtLogin() async throws {
        let app = TestApp(["LATCHKEY_REQUIRE_EMAIL_VERIFICATION": "true"])
        let node = Bcrypt.hash("Node#Password1", cost: 5)
        let php = "$2y$" + Bcrypt.hash("Php#Password1", cost: 6).dropFirst(4)
        let lines = [
            #"{"email":"Node@Example.com","name":"Node","passwordHash":"\#(node)","emailVerified":true}"#,
            #"{"email":"php@example.com","name":"Php","passwordHash":"\#(php)","emailVerified":true,"role":"admin"}"#,
            #"{"email":"later@example.com","name":"Later","passwordHash":"\#(node)"}"#,
            "",
            #"{"email":"weak@example.com","name":"Weak","passwordHash":"$2b$03$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"}"#,
            #"{"email":"not-an-email","name":"X","passwordHash":"plain"}"#,
            "{not json",
        ]
        let file = FileManager.default.temporaryDirectory.appending(path: "import-\(UUID()).jsonl")
        try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }

        let first = try Self.latchkey(["users", "import", file.path, "--json"], database: app.database)
        #expect(first.status == 1)
        #expect(first.objects.first?["imported"] as? Int == 3 && first.objects.first?["invalid"] as? Int == 3)
        #expect(first.stderr.contains("line 5: passwordHash must be a bcrypt hash"))
        #expect(first.stderr.contains("line 6: email must be a valid email address; passwordHash"))
        #expect(first.stderr.contains("line 7: not a JSON object"))
        let again = try Self.latchkey(["users", "import", file.path], database: app.database)
        #expect(again.stdout == "imported 0, skipped 3 (the email has an account), invalid 3\n")

        try await app.run { client in
            #expect(try await client.login(email: "node@example.com", password: "Node#Password1").status == .ok)
            let admin = try await client.login(email: "php@example.com", password: "Php#Password1")
            #expect(admin.status == .ok)
            #expect(try await client.login(email: "php@example.com", password: "Php#Password2").status == .unauthorized)
            #expect(try await client.login(email: "later@example.com", password: "Node#Password1").error?.error == .emailNotVerified)
            let token = try #require(admin.json["accessToken"] as? String)
            #expect(try await client.request(.get, "/admin/users", bearer: token).status == .ok)
        }
        // Rehashed at the configured cost (4 in tests) by the successful logins, and still the same password.
        let hashes = try await app.database.rows("SELECT email, password_hash FROM users ORDER BY email")
        let byEmail = Dictionary(uniqueKeysWithValues: hashes.compactMap { row in row["email"].map { ($0, row["password_hash"] ?? "") } })
        #expect(byEmail["node@example.com"]?.hasPrefix("$2b$04$") == true)
        #expect(byEmail["php@example.com"]?.hasPrefix("$2b$04$") == true)
        #expect(byEmail["later@example.com"] == node)
        try await app.run { client in
            let again = try await client.login(email: "php@example.com", password: "Php#Password1")
            #expect(again.status == .ok)
        }
    }

    @Test func badConfigurationExits78() throws {
        let run = try Self.latchkey(["users", "list"], database: TestDatabase(), environment: ["LATCHKEY_BCRYPT_COST": "99"])
        #expect(run.status == 78)
        #expect(run.stderr.contains("LATCHKEY_BCRYPT_COST"))
        // Every setting is checked, also those the command itself does not use.
        for setting in [["LATCHKEY_TRUSTED_PROXIES": "not-a-cidr"], ["LATCHKEY_TEMPLATES_DIR": "/nonexistent"], ["LATCHKEY_HSTS": "maybe"]] {
            let refused = try Self.latchkey(["users", "create", "x@example.com", "--name", "X"], database: TestDatabase(), environment: setting)
            #expect(refused.status == 78, "\(setting)")
        }
    }

    @Test func disablingOnTheCommandLineEndsTheSessionsTheServerHolds() async throws {
        let app = TestApp()
        try await app.run { client in
            let email = "cli-\(UUID())@example.com".lowercased()
            let pair = try await client.register(email: email)
            let disabled = try Self.latchkey(["users", "disable", email], database: app.database)
            #expect(disabled.status == 0, "\(disabled.stderr)")
            // Another process wrote the file: the server sees it within its one-second cache age.
            try await Task.sleep(for: .milliseconds(1100))
            #expect(try await client.request(.get, "/auth/me", bearer: pair.accessToken!).error?.error == .tokenInvalid)
            #expect(try await client.login(email: email).error?.error == .accountDisabled)
            #expect(try Self.latchkey(["users", "enable", email], database: app.database).status == 0)
            #expect(try await client.login(email: email).status == .ok)
        }
    }

    @Test func mfaResetRemovesTheSecondFactorAndEndsTheSessions() async throws {
        let app = TestApp()
        try await app.run { client in
            let account = try await SecondFactorFlowTests.enroll(client)
            #expect(try await client.login(email: account.email).json["mfaRequired"] as? Bool == true)
            let reset = try Self.latchkey(["users", "mfa-reset", account.email, "--json"], database: app.database)
            #expect(reset.status == 0, "\(reset.stderr)")
            #expect(reset.objects.first?["mfaEnabled"] as? Bool == false && reset.objects.first?["activeSessions"] as? Int == 0)
            try await Task.sleep(for: .milliseconds(1100))
            #expect(try await client.request(.get, "/auth/me", bearer: account.session.accessToken).status == .unauthorized)
            #expect(try await client.login(email: account.email).decode(TokenPairResponse.self).amr == ["pwd"])
            let unknown = try Self.latchkey(["users", "mfa-reset", "nobody@example.com"], database: app.database)
            #expect(unknown.status == 1)
        }
    }
}
