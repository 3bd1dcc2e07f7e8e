import Foundation
import GRDB
import LatchkeyCore

struct SQLiteSigningKeyStore: SigningKeyStore {
    let writer: any DatabaseWriter

    /// One write transaction: SQLite's single writer makes check-and-insert atomic, across processes too.
    func signingKeys(algorithm: SigningAlgorithm, creatingIfNone makeKey: @escaping @Sendable () throws -> SigningKey) async throws -> [SigningKey] {
        try await writer.write { db in
            let query: SQL = "SELECT * FROM signing_keys WHERE algorithm = \(algorithm.rawValue) ORDER BY created_at, kid"
            if try db.rows(query).isEmpty {
                let key = try makeKey()
                try db.run(
                    """
                    INSERT INTO signing_keys (kid, algorithm, private_key, created_at)
                    VALUES (\(key.kid), \(key.algorithm.rawValue), \(key.privateKey), \(key.createdAt))
                    """
                )
            }
            return try db.rows(query).map(SigningKey.init(row:))
        }
    }

    func replacePrivateKey(kid: String, with privateKey: String) async throws {
        try await writer.write { db in try db.run("UPDATE signing_keys SET private_key = \(privateKey) WHERE kid = \(kid)") }
    }
}
