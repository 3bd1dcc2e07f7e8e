import Foundation
import LatchkeyCore
import Logging
import PostgresNIO
import ServiceLifecycle

/// A database ready to serve, and what must run while it does (PostgreSQL's connection pool).
public struct OpenedDatabase: Sendable {
    public let database: any LatchkeyCore.Database
    public let service: (any Service)?
}

/// Opens the backend named by `LATCHKEY_DATABASE_URL`: `sqlite://PATH` (`sqlite://:memory:` too) or
/// `postgres://user:password@host:port/database[?sslmode=require]`.
public enum DatabaseFactory {
    /// Opens the database, applies pending migrations, and runs `prepare` (start-up work such as loading the
    /// signing keys) before anything serves.
    public static func open<Prepared: Sendable>(
        url: String,
        logger: Logger,
        prepare: @escaping @Sendable (any LatchkeyCore.Database) async throws -> Prepared
    ) async throws -> (OpenedDatabase, Prepared) {
        if url.hasPrefix("sqlite:") {
            let database = try openSQLite(url: url)
            return (OpenedDatabase(database: database, service: nil), try await prepare(database))
        }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            let configuration = try PostgresDatabase.configuration(url: url)
            // Start-up uses its own short-lived pool: the serving pool only runs once the app's services do.
            let setupClient = PostgresClient(configuration: configuration, backgroundLogger: logger)
            let prepared = try await withThrowingTaskGroup(of: Prepared?.self) { group in
                group.addTask {
                    await setupClient.run()
                    return nil
                }
                defer { group.cancelAll() }
                let database = PostgresDatabase(client: setupClient, logger: logger)
                do {
                    try await database.migrate()
                } catch {
                    throw ConfigurationError("LATCHKEY_DATABASE_URL: cannot migrate the PostgreSQL database at \(redacted(url)) (\(String(reflecting: error))).")
                }
                return try await prepare(database)
            }
            let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
            return (OpenedDatabase(database: PostgresDatabase(client: client, logger: logger), service: client), prepared)
        }
        throw ConfigurationError("LATCHKEY_DATABASE_URL must start with sqlite:// or postgres://, not '\(redacted(url))'.")
    }

    private static func openSQLite(url: String) throws -> SQLiteDatabase {
        let path = url.hasPrefix("sqlite://") ? String(url.dropFirst("sqlite://".count)) : String(url.dropFirst("sqlite:".count))
        guard !path.isEmpty else { throw ConfigurationError("LATCHKEY_DATABASE_URL must name a file: sqlite://PATH.") }
        let database = try SQLiteDatabase(path: path)
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
