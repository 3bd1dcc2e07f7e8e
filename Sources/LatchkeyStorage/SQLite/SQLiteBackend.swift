import Foundation
import GRDB
import LatchkeyCore

/// The embedded backend: one SQLite file in WAL mode (or `:memory:`), shared by the stores.
public struct SQLiteBackend: StorageBackend {
    let writer: any DatabaseWriter
    private let sessionCache = SQLiteSessionCache()
    private let rotations: Batcher<RefreshRotation, RefreshRotation.Outcome>
    private let secondSteps: SQLiteMFAStore.SecondSteps

    public var users: any UserStore { SQLiteUserStore(writer: writer) }
    public var sessions: any SessionStore { SQLiteSessionStore(writer: writer, cache: sessionCache, rotations: rotations) }
    public var signingKeys: any SigningKeyStore { SQLiteSigningKeyStore(writer: writer) }
    public var emailTokens: any EmailTokenStore { SQLiteEmailTokenStore(writer: writer) }
    public var outbox: any OutboxStore { SQLiteOutboxStore(writer: writer) }
    public var rateLimits: any RateLimitStore { SQLiteRateLimitStore(writer: writer) }
    public var audit: any AuditStore { SQLiteAuditStore(writer: writer) }
    public var mfa: any MFAStore { SQLiteMFAStore(writer: writer, secondSteps: secondSteps) }
    public var passkeys: any PasskeyStore { SQLitePasskeyStore(writer: writer) }

    /// Opens (creating if needed) the database at `path`. Throws a `ConfigurationError` when it cannot.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        // What is deleted or overwritten is zeroed, not left in free pages.
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA secure_delete = ON")
            // Statement and savepoint journals stay in memory: in a temporary file, the savepoints of a batch of refresh
            // rotations (`SQLiteSessionStore.rotations`) made seven times as many writes there as to the WAL.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            // The writer touches every table's indexes on a refresh or login: with a database of millions of rows, SQLite's
            // default 2 MB page cache made it read pages back for nearly every write. Readers need less.
            try db.execute(sql: db.configuration.readonly ? "PRAGMA cache_size = -8192" : "PRAGMA cache_size = -65536")
            // `wal_autocheckpoint` stays at SQLite's 1,000 pages: the commit that grows the WAL past that many pages copies
            // them back into the database file and syncs it (a checkpoint). A larger value means fewer, longer checkpoints.
            // 4,000 pages helped while refresh tokens were keyed by a random hash; with time-keyed tokens it gave the same
            // refreshes/s and a refresh p99 of 17-22 ms against 11-13 ms, on an empty and on a seeded database alike
            // (2026-12-03).
        }
        do {
            if path == ":memory:" {
                writer = try DatabaseQueue(configuration: configuration)
            } else {
                writer = try DatabasePool(path: path, configuration: configuration)
            }
        } catch {
            throw ConfigurationError("LATCHKEY_DATABASE_URL: cannot open the SQLite database at '\(path)' (\(error.localizedDescription)).")
        }
        writer.add(transactionObserver: sessionCache, extent: .observerLifetime)
        rotations = SQLiteSessionStore.rotations(writer: writer)
        secondSteps = SQLiteMFAStore.SecondSteps(writer: writer)
    }

    /// Applies the migrations that have not run yet.
    public func migrate() throws {
        try SQLiteMigrations.migrator.migrate(writer)
    }

    public func ping() async throws {
        _ = try await writer.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    /// SQLite has statistics only once someone runs ANALYZE, and then keeps them as they were: taken while the database
    /// held two refresh tokens, they made every refresh scan the whole refresh-token table (250 refreshes/s at 40,000
    /// tokens). `PRAGMA optimize` re-analyzes the tables whose statistics the writer's queries used and that have grown
    /// or shrunk many times since; on a database never analyzed it does nothing, and the indexes serve as they are.
    /// `analysis_limit` keeps an ANALYZE of millions of rows to a sample.
    public func refreshStatistics() async throws {
        try await writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA analysis_limit = 1000; PRAGMA optimize")
        }
    }
}
