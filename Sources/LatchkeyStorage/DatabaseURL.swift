import Foundation
import LatchkeyCore

/// Opens the backend named by `LATCHKEY_DATABASE_URL`: `sqlite://PATH` (or `sqlite::memory:`) today;
/// `postgres://…` comes with the PostgreSQL backend.
public enum DatabaseFactory {
    /// Opens the database and applies pending migrations.
    public static func open(url: String) async throws -> any LatchkeyCore.Database {
        if url.hasPrefix("sqlite://") || url.hasPrefix("sqlite:") {
            let path = url.hasPrefix("sqlite://") ? String(url.dropFirst("sqlite://".count)) : String(url.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw ConfigurationError("LATCHKEY_DATABASE_URL must name a file: sqlite://PATH.") }
            let database = try SQLiteDatabase(path: path)
            do {
                try database.migrate()
            } catch {
                throw ConfigurationError(
                    "LATCHKEY_DATABASE_URL: cannot use the SQLite database at '\(path)' (\(error.localizedDescription))."
                )
            }
            return database
        }
        throw ConfigurationError("LATCHKEY_DATABASE_URL must start with sqlite:// (PostgreSQL is not supported yet), not '\(redacted(url))'.")
    }

    /// The URL without its password, for error messages.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? "(unparsable URL)"
    }
}
