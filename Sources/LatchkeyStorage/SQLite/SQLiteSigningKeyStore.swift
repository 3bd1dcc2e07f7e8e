import Foundation
import GRDB
import LatchkeyCore

struct SQLiteSigningKeyStore: SigningKeyStore {
    let writer: any DatabaseWriter

    /// One write transaction: SQLite's single writer makes check-and-insert atomic, across processes too.
    func signingKeys(
        algorithm: SigningAlgorithm,
        creatingIfNone makeKey: @escaping @Sendable () throws -> (SigningKey, AuditEvent)
    ) async throws -> [SigningKey] {
        try await writer.write { db in
            let query: SQL = "SELECT * FROM signing_keys WHERE algorithm = \(algorithm.rawValue) AND retired_at IS NULL ORDER BY created_at, kid"
            if try db.rows(query).isEmpty {
                let (key, audit) = try makeKey()
                try db.insert(key)
                try db.record(audit)
            }
            return try db.rows(query).map(SigningKey.init(row:))
        }
    }

    func replacePrivateKey(kid: String, with privateKey: String) async throws {
        try await writer.write { db in try db.run("UPDATE signing_keys SET private_key = \(privateKey) WHERE kid = \(kid)") }
    }

    func allSigningKeys() async throws -> [SigningKey] {
        try await writer.read { db in try db.rows("SELECT * FROM signing_keys ORDER BY created_at, kid").map(SigningKey.init(row:)) }
    }

    func addSigningKey(_ key: SigningKey, audit: AuditEvent) async throws {
        try await writer.write { db in
            try db.insert(key)
            try db.record(audit)
        }
    }

    func retireSigningKey(kid: String, now: Date, audit: AuditEvent, check: @escaping @Sendable ([SigningKey]) throws -> Void) async throws -> Bool {
        try await writer.write { db in
            try check(try db.rows("SELECT * FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at, kid").map(SigningKey.init(row:)))
            try db.run("UPDATE signing_keys SET retired_at = \(now) WHERE kid = \(kid) AND retired_at IS NULL")
            guard db.changesCount > 0 else { return false }
            try db.record(audit)
            return true
        }
    }
}

extension GRDB.Database {
    fileprivate func insert(_ key: SigningKey) throws {
        try run(
            """
            INSERT INTO signing_keys (kid, algorithm, private_key, created_at, activates_at)
            VALUES (\(key.kid), \(key.algorithm.rawValue), \(key.privateKey), \(key.createdAt), \(key.activatesAt))
            """
        )
    }
}
