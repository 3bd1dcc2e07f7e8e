import Foundation
import LatchkeyCore
import LatchkeyStorage
import LatchkeyTestSupport
import Testing

/// The store-conformance suite: every method of every store protocol, on every backend (see `Backend.available`),
/// with the same expectations on each. The other files of this target extend it, one store per file.
@Suite struct StoreConformanceTests {}

// MARK: - StorageBackend

extension StoreConformanceTests {
    @Test(arguments: Backend.available)
    func pingAnswers(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in try await store.database.ping() }
    }

    /// SQLite is a file inside this process and cannot stop answering; PostgreSQL can, when its pool no longer runs.
    @Test(.enabled(if: Backend.available.contains(.postgres)))
    func pingThrowsWhenPostgresDoesNotAnswer() async throws {
        let url = TestDatabase().url
        let opened = try DatabaseFactory.open(url: url, keyEncryptionKey: .ephemeral(), logger: TestStore.logger)
        let service = try #require(opened.service)
        let pool = Task { try await service.run() }
        defer { pool.cancel() }
        try await opened.database.ping()
        pool.cancel()
        _ = await pool.result
        await #expect(throws: (any Error).self) { try await opened.database.ping() }
    }
}

// MARK: - Dates

extension StoreConformanceTests {
    /// SQLite keeps milliseconds, PostgreSQL microseconds: a date given in whole milliseconds must come back in the same
    /// millisecond (compared as milliseconds, since reading text back into a binary `Date` may be off by a fraction of a
    /// microsecond). A run of consecutive milliseconds covers those not exact in binary, most of them.
    @Test(arguments: Backend.available)
    func storedDatesKeepTheirMillisecond(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let first = Date.wholeSecond().millisecond
            var shifted: [String] = []
            for millisecond in first..<first + 40 {
                let createdAt = Date(timeIntervalSince1970: Double(millisecond) / 1000)
                let user = try await store.insertUser(now: createdAt)
                let stored = try #require(try await store.stored(user)).createdAt
                if stored.millisecond != millisecond { shifted.append("\(millisecond) ms came back as \(stored.millisecond) ms") }
            }
            #expect(shifted.isEmpty, "\(shifted.count) of 40 dates moved: \(shifted.prefix(3).joined(separator: "; "))")
        }
    }
}

// MARK: - UserStore

extension StoreConformanceTests {
    @Test(arguments: Backend.available)
    func insertedUserReadsBackByEmail(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            var user = User.make(now: .wholeSecond())
            user.role = .admin
            user.emailVerified = true
            try await store.users.insertUser(user, verification: nil)

            #expect(try await store.users.user(email: user.email) == user)
            #expect(try await store.users.user(email: uniqueEmail()) == nil)
        }
    }

    @Test(arguments: Backend.available)
    func insertUserStoresVerificationTokenAndQueuesItsMail(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = User.make(now: now)
            let token = EmailToken.make(userID: user.id, purpose: .verifyEmail, createdAt: now)
            let mail = SealedMail.make(to: user.email, createdAt: now)
            try await store.users.insertUser(user, verification: (token, mail))

            #expect(try await store.emailTokens.owner(of: token.hash, purpose: .verifyEmail, now: now.plus(1)) == user)
            let queued = try await store.claimAll(at: now)
            #expect(queued.map(\.mail) == [mail])
            #expect(queued.map(\.attempts) == [0])
        }
    }

    @Test(arguments: Backend.available)
    func insertUserWithTakenEmailThrowsAndLeavesNothingBehind(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let taken = try await store.insertUser(now: now)
            let rival = User.make(email: taken.email, now: now)
            let token = EmailToken.make(userID: rival.id, purpose: .verifyEmail, createdAt: now)

            await #expect(throws: AuthError.emailAlreadyRegistered) {
                try await store.users.insertUser(rival, verification: (token, .make(to: rival.email, createdAt: now)))
            }
            await #expect(throws: AuthError.emailAlreadyRegistered) {
                try await store.users.insertUser(User.make(email: taken.email, now: now), verification: nil)
            }
            // One transaction: the refused account's token and mail went with it.
            #expect(try await store.emailTokens.owner(of: token.hash, purpose: .verifyEmail, now: now) == nil)
            #expect(try await store.claimAll(at: now).isEmpty)
            #expect(try await store.users.user(email: taken.email) == taken)
        }
    }

    @Test(arguments: Backend.available)
    func emailOfSoftDeletedAccountStaysTaken(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let deleted = try await store.insertUser(now: now)
            try await store.users.softDelete(userID: deleted.id, now: now.plus(1))

            let newcomer = User.make(email: deleted.email, now: now.plus(2))
            await #expect(throws: AuthError.emailAlreadyRegistered) { try await store.users.insertUser(newcomer, verification: nil) }
            let token = EmailToken.make(userID: newcomer.id, purpose: .verifyEmail, createdAt: now.plus(2))
            await #expect(throws: AuthError.emailAlreadyRegistered) {
                try await store.users.insertUser(newcomer, verification: (token, .make(to: newcomer.email, createdAt: now.plus(2))))
            }
            #expect(try await store.users.user(email: deleted.email)?.id == deleted.id)
        }
    }

    /// Uniqueness is case-insensitive because stored emails are lower-case: an upper-case twin of a taken address must
    /// not become a second account, whichever way a store refuses it.
    @Test(arguments: Backend.available)
    func upperCaseTwinOfTakenEmailIsRefused(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let taken = try await store.insertUser(now: now)
            let twin = User.make(email: taken.email.uppercased(), now: now)

            await #expect(throws: (any Error).self) { try await store.users.insertUser(twin, verification: nil) }
            #expect(try await store.users.user(email: twin.email) == nil)
            #expect(try await store.users.user(email: taken.email) == taken)
        }
    }

    @Test(arguments: Backend.available)
    func updateNameSetsNameAndUpdatedAt(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)

            let updated = try #require(try await store.users.updateName(userID: user.id, name: "Grace Hopper", now: now.plus(5)))
            var expected = user
            expected.name = "Grace Hopper"
            expected.updatedAt = now.plus(5)
            #expect(updated == expected)
            #expect(try await store.stored(user) == expected)
            #expect(try await store.users.updateName(userID: UUID(), name: "Nobody", now: now) == nil)
        }
    }

    /// `AccountService.updateProfile` answers nil with TOKEN_INVALID; a user returned here would read as a successful update.
    @Test(arguments: Backend.available)
    func updateNameOfDeletedAccountChangesNothingAndReturnsNil(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            try await store.users.softDelete(userID: user.id, now: now.plus(1))

            #expect(try await store.users.updateName(userID: user.id, name: "Ghost", now: now.plus(2)) == nil)
            #expect(try await store.stored(user)?.name == user.name)
        }
    }

    @Test(arguments: Backend.available)
    func changePasswordKeepsOneSessionVoidsResetTokensAndQueuesNotice(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let kept = try await store.startSession(for: user, at: now).session
            _ = try await store.startSession(for: user, at: now)
            let bystander = try await store.startSession(for: try await store.insertUser(now: now), at: now).session
            let reset = EmailToken.make(userID: user.id, purpose: .resetPassword, createdAt: now)
            let verification = EmailToken.make(userID: user.id, purpose: .verifyEmail, createdAt: now)
            try await store.emailTokens.issue(reset, mail: .make(to: user.email, createdAt: now))
            try await store.emailTokens.issue(verification, mail: .make(to: user.email, createdAt: now))
            _ = try await store.claimAll(at: now)  // leases the token mails, so that only the notice is due below

            let later = now.plus(1)
            let notice = SealedMail.make(to: user.email, subject: "Your password was changed", createdAt: later)
            try await store.users.changePassword(userID: user.id, passwordHash: "new-hash", keepSessionID: kept.id, notice: notice, now: later)

            let changed = try #require(try await store.stored(user))
            #expect(changed.passwordHash == "new-hash")
            #expect(changed.updatedAt == later)
            #expect(try await store.liveSessionIDs(of: user, at: later) == [kept.id])
            #expect(try await store.sessions.activeUser(sessionID: bystander.id, userID: bystander.userID, now: later) != nil)
            #expect(try await store.emailTokens.owner(of: reset.hash, purpose: .resetPassword, now: later) == nil)
            #expect(try await store.emailTokens.owner(of: verification.hash, purpose: .verifyEmail, now: later)?.id == user.id)
            #expect(try await store.claimAll(at: later).map(\.mail) == [notice])
        }
    }

    @Test(arguments: Backend.available)
    func changePasswordWithoutKeptSessionRevokesEverySession(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let session = try await store.startSession(for: user, at: now).session
            _ = try await store.startSession(for: user, at: now)

            let notice = SealedMail.make(to: user.email, createdAt: now)
            try await store.users.changePassword(userID: user.id, passwordHash: "new-hash", keepSessionID: nil, notice: notice, now: now.plus(1))

            #expect(try await store.liveSessionIDs(of: user, at: now.plus(1)).isEmpty)
            #expect(try await store.sessions.activeUser(sessionID: session.id, userID: user.id, now: now.plus(1)) == nil)
            #expect(try await store.claimAll(at: now).map(\.mail) == [notice])
        }
    }

    @Test(arguments: Backend.available)
    func softDeleteMarksAccountDeletedAndRevokesItsSessions(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let session = try await store.startSession(for: user, at: now).session
            _ = try await store.startSession(for: user, at: now)
            let bystander = try await store.startSession(for: try await store.insertUser(now: now), at: now).session
            #expect(try await store.sessions.activeUser(sessionID: session.id, userID: user.id, now: now) == user)

            try await store.users.softDelete(userID: user.id, now: now.plus(1))

            var expected = user
            expected.deletedAt = now.plus(1)
            expected.updatedAt = now.plus(1)
            // Login looks a deleted account up by email to answer ACCOUNT_DISABLED rather than INVALID_CREDENTIALS.
            #expect(try await store.users.user(email: user.email) == expected)
            #expect(try await store.sessions.activeUser(sessionID: session.id, userID: user.id, now: now.plus(1)) == nil)
            #expect(try await store.liveSessionIDs(of: user, at: now.plus(1)).isEmpty)
            #expect(try await store.sessions.activeUser(sessionID: bystander.id, userID: bystander.userID, now: now.plus(1)) != nil)
        }
    }
}

// MARK: - Migrations

extension StoreConformanceTests {
    /// Earlier versions stored emails trimmed and lower-cased only. The migration to one normal form rewrites them,
    /// and leaves alone an address whose normal form another account holds (two accounts never merge) and one that
    /// is no longer valid.
    @Test(arguments: Backend.available)
    func migrationBringsStoredEmailsToTheNormalForm(_ backend: Backend) async throws {
        let database = TestDatabase(sqlite: backend == .sqlite)
        defer { database.removeSQLiteFiles() }
        let now = Date.wholeSecond()
        let stored: [(old: String, expected: String)] = [
            ("u@bücher.example", "u@xn--bcher-kva.example"),
            ("jo\u{0308}rg@example.com", "j\u{00F6}rg@example.com"),
            ("twin@xn--bcher-kva.example", "twin@xn--bcher-kva.example"),
            ("twin@bücher.example", "twin@bücher.example"),
            ("<script>@x.test", "<script>@x.test"),
        ]
        try await TestStore.with(database) { store in
            for (old, _) in stored { try await store.users.insertUser(.make(email: old, now: now), verification: nil) }
            // As if the database came from a version before the migration.
            try await store.execute(
                backend == .sqlite
                    ? "DELETE FROM grdb_migrations WHERE identifier = '0004_normalized_emails'"
                    : "DELETE FROM schema_migrations WHERE version = '0004_normalized_emails'"
            )
        }
        try await TestStore.with(database) { store in
            let emails = try await store.rows("SELECT email FROM users").compactMap { $0["email"] }.map { Array($0.utf8) }
            #expect(Set(emails) == Set(stored.map { Array($0.expected.utf8) }))
        }
    }
}
