import Foundation
import LatchkeyCore
import Logging
import PostgresNIO
import ServiceLifecycle

/// The configured database, what must run while it is used (PostgreSQL's connection pool), and the key-encryption
/// key that seals the secrets it stores.
public struct OpenedDatabase: Sendable {
    public let database: any StorageBackend
    public let service: (any Service)?
    public let keyEncryptionKey: KeyEncryptionKey
    /// Applies the pending migrations (`migrate`): SQLite's ran at open.
    let pendingMigrations: (@Sendable () async throws -> Void)?

    /// Applies pending migrations, on the clients the database serves with: while `service` runs.
    public func migrate() async throws {
        try await pendingMigrations?()
    }

    /// Runs `body` with `service` running: for a command, which has no application to run it.
    public func whileRunning<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) async throws -> Value {
        guard let service else { return try await body() }
        return try await withThrowingTaskGroup(of: Value?.self) { group in
            group.addTask {
                try await service.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body()
        }
    }
}

/// Opens the backend named by `LATCHKEY_DATABASE_URL`: `sqlite://PATH` (`sqlite://:memory:` too) or
/// `postgres://user:password@host:port/database[?sslmode=require]`.
public enum DatabaseFactory {
    /// Opens the database and settles the key-encryption key (see `sqliteKeyEncryptionKey`). SQLite is migrated here;
    /// PostgreSQL by `OpenedDatabase.migrate`, once its pool runs: start-up uses the pool the server serves with.
    public static func open(url: String, keyEncryptionKey configured: KeyEncryptionKey?, logger: Logger) throws -> OpenedDatabase {
        if url.hasPrefix("sqlite:") {
            let database = try openSQLite(url: url)
            let keyEncryptionKey = try configured ?? sqliteKeyEncryptionKey(url: url)
            return OpenedDatabase(database: database, service: nil, keyEncryptionKey: keyEncryptionKey, pendingMigrations: nil)
        }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            let configuration = try PostgresBackend.configuration(url: url)
            guard let keyEncryptionKey = configured else {
                // Every instance must seal and open with the same key, so none can be made up here.
                throw ConfigurationError(
                    "LATCHKEY_KEY_ENCRYPTION_KEY (32 bytes, base64, the same on every instance) or LATCHKEY_KEY_ENCRYPTION_KEY_FILE "
                        + "must be set for PostgreSQL; `openssl rand -base64 32` makes one."
                )
            }
            let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
            PostgresExecutor.connectionsMax.record(configuration.options.maximumConnections)
            let database = PostgresBackend(client: client, logger: logger)
            return OpenedDatabase(database: database, service: client, keyEncryptionKey: keyEncryptionKey) {
                do {
                    try await database.migrate()
                } catch {
                    throw ConfigurationError(
                        "LATCHKEY_DATABASE_URL: cannot migrate the PostgreSQL database at \(redacted(url)) (\(String(reflecting: error)))."
                    )
                }
            }
        }
        throw ConfigurationError("LATCHKEY_DATABASE_URL must start with sqlite:// or postgres://, not '\(redacted(url))'.")
    }

    /// With no key configured, SQLite keeps one in a file beside the database (`PATH.kek`, made on first start);
    /// an in-memory database gets a key of its own.
    private static func sqliteKeyEncryptionKey(url: String) throws -> KeyEncryptionKey {
        let path = try sqlitePath(url: url)
        return path == ":memory:" ? .ephemeral() : try .loadOrCreate(file: path + ".kek")
    }

    private static func sqlitePath(url: String) throws -> String {
        let path = url.hasPrefix("sqlite://") ? String(url.dropFirst("sqlite://".count)) : String(url.dropFirst("sqlite:".count))
        guard !path.isEmpty else { throw ConfigurationError("LATCHKEY_DATABASE_URL must name a file: sqlite://PATH.") }
        return path
    }

    private static func openSQLite(url: String) throws -> SQLiteBackend {
        let path = try sqlitePath(url: url)
        let database = try SQLiteBackend(path: path)
        do {
            try database.migrate()
        } catch {
            throw ConfigurationError("LATCHKEY_DATABASE_URL: cannot use the SQLite database at '\(path)' (\(error.localizedDescription)).")
        }
        return database
    }

    /// The URL without its password, for error messages.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? "(unparsable URL)"
    }
}
