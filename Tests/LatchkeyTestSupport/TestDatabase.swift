import Foundation
import GRDB

/// A new, empty database for one test: a SQLite file, or — when `LATCHKEY_TEST_POSTGRES_URL` is set (scripts/test
/// does that for its second run) and `sqlite` is false — a new database on that PostgreSQL server.
public struct TestDatabase: Sendable {
    public let url: String

    public static let postgresServer = ProcessInfo.processInfo.environment["LATCHKEY_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

    public init(sqlite: Bool = false) {
        let name = "latchkey_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        if let server = Self.postgresServer, !sqlite {
            _ = Self.psql(server, "CREATE DATABASE \(name)")
            var components = URLComponents(string: server)!
            components.path = "/\(name)"
            url = components.string!
        } else {
            url = "sqlite://" + FileManager.default.temporaryDirectory.appending(path: "\(name).sqlite").path
        }
    }

    /// Removes a SQLite database's files (a PostgreSQL test database lives on a throwaway server).
    public func removeSQLiteFiles() {
        guard url.hasPrefix("sqlite://") else { return }
        let path = String(url.dropFirst("sqlite://".count))
        for suffix in ["", "-wal", "-shm", ".kek"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// A fixed key-encryption key for tests on PostgreSQL, base64.
    public static let keyEncryptionKey = "dGVzdC1rZXktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM="

    /// What a server on this database needs besides its URL: PostgreSQL wants a key-encryption key configured
    /// (SQLite makes a key file beside the database).
    public var environment: [String: String] {
        var environment = ["LATCHKEY_DATABASE_URL": url]
        if !url.hasPrefix("sqlite:") { environment["LATCHKEY_KEY_ENCRYPTION_KEY"] = Self.keyEncryptionKey }
        return environment
    }

    /// The rows of `sql` as text, NULL columns left out; on either backend.
    public func rows(_ sql: String) async throws -> [[String: String]] {
        if url.hasPrefix("sqlite://") {
            return try await DatabaseQueue(path: String(url.dropFirst("sqlite://".count))).read { db in
                try Row.fetchAll(db, sql: sql).map { row in
                    var values: [String: String] = [:]
                    for (column, value) in row where !value.isNull {
                        values[column] = String.fromDatabaseValue(value) ?? value.description
                    }
                    return values
                }
            }
        }
        return Self.psql(url, "SELECT row_to_json(q) FROM (\(sql)) q").split(separator: "\n").map { line in
            let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
            return object.compactMapValues { $0 is NSNull ? nil : ($0 as? String) ?? "\($0)" }
        }
    }

    /// Runs `sql` on its own connection, as another process would.
    public func execute(_ sql: String) async throws {
        if url.hasPrefix("sqlite://") {
            try await DatabaseQueue(path: String(url.dropFirst("sqlite://".count))).write { db in try db.execute(sql: sql) }
        } else {
            Self.psql(url, sql)
        }
    }

    @discardableResult
    public static func psql(_ url: String, _ sql: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", url, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql]
        let output = Pipe()
        process.standardOutput = output
        try? process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
