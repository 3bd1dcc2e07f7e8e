import Foundation
import LatchkeyCore
import LatchkeyStorage
import LatchkeyTestSupport
import Logging
import Testing

/// The backends the suite runs on: SQLite always, PostgreSQL when `LATCHKEY_TEST_POSTGRES_URL` names a server.
enum Backend: String, Sendable, CustomTestStringConvertible {
    case sqlite = "SQLite"
    case postgres = "PostgreSQL"

    static let available: [Backend] = TestDatabase.postgresServer == nil ? [.sqlite] : [.sqlite, .postgres]

    var testDescription: String { rawValue }
}

/// One test's fresh database, opened through the public API only, plus a side door to its rows for what no
/// store method reveals (a dropped mail body) or allows (a deleted user whose session is still live).
struct TestStore: Sendable {
    let database: any StorageBackend
    private let files: TestDatabase

    var users: any UserStore { database.users }
    var sessions: any SessionStore { database.sessions }
    var emailTokens: any EmailTokenStore { database.emailTokens }
    var outbox: any OutboxStore { database.outbox }
    var signingKeys: any SigningKeyStore { database.signingKeys }
    var rateLimits: any RateLimitStore { database.rateLimits }
    var audit: any AuditStore { database.audit }
    var mfa: any MFAStore { database.mfa }
    var passkeys: any PasskeyStore { database.passkeys }

    /// Opens a fresh database on `backend`, runs `body` on it and tears it down. PostgreSQL's connection pool
    /// runs in a child task for as long as `body` does, as the app's service group would run it.
    static func with(_ backend: Backend, _ body: (TestStore) async throws -> Void) async throws {
        let files = TestDatabase(sqlite: backend == .sqlite)
        defer { files.removeSQLiteFiles() }
        try await with(files, body)
    }

    /// Opens `files` (again: migrations that have not run yet are applied) and runs `body` on it.
    static func with(_ files: TestDatabase, _ body: (TestStore) async throws -> Void) async throws {
        let opened = try DatabaseFactory.open(url: files.url, keyEncryptionKey: .ephemeral(), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let service = opened.service { group.addTask { try await service.run() } }
            defer { group.cancelAll() }
            try await opened.migrate()
            try await body(TestStore(database: opened.database, files: files))
        }
    }

    /// Warnings only: each test's migrations would otherwise fill the output.
    static let logger: Logger = {
        var logger = Logger(label: "latchkey-store-tests")
        logger.logLevel = .warning
        return logger
    }()

    /// The rows of `sql` as text, NULL columns left out, read on a connection of its own.
    func rows(_ sql: String) async throws -> [[String: String]] {
        try await files.rows(sql)
    }

    /// Runs `sql` on a connection of its own, as another process would.
    func execute(_ sql: String) async throws {
        try await files.execute(sql)
    }
}
