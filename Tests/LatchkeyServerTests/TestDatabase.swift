import Foundation
import GRDB

/// A new, empty database for one test: a SQLite file, or — when `LATCHKEY_TEST_POSTGRES_URL` is set (scripts/test
/// does that for its second run) — a new database on that PostgreSQL server.
struct TestDatabase: Sendable {
    let url: String

    static let postgresServer = ProcessInfo.processInfo.environment["LATCHKEY_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

    init() {
        let name = "latchkey_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        if let server = Self.postgresServer {
            _ = Self.psql(server, "CREATE DATABASE \(name)")
            var components = URLComponents(string: server)!
            components.path = "/\(name)"
            url = components.string!
        } else {
            url = "sqlite://" + FileManager.default.temporaryDirectory.appending(path: "\(name).sqlite").path
        }
    }

    /// The rows of `sql` as text, NULL columns left out; on either backend.
    func rows(_ sql: String) async throws -> [[String: String]] {
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
    func execute(_ sql: String) async throws {
        if url.hasPrefix("sqlite://") {
            try await DatabaseQueue(path: String(url.dropFirst("sqlite://".count))).write { db in try db.execute(sql: sql) }
        } else {
            Self.psql(url, sql)
        }
    }

    @discardableResult
    static func psql(_ url: String, _ sql: String) -> String {
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
