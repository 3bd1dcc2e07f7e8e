import Foundation
import GRDB
import LatchkeyCore

struct SQLiteSigningKeyStore: SigningKeyStore {
    let writer: any DatabaseWriter

    func signingKeys(algorithm: SigningAlgorithm) async throws -> [SigningKey] {
        try await writer.read { db in
            try db.rows("SELECT * FROM signing_keys WHERE algorithm = \(algorithm.rawValue) ORDER BY created_at, kid")
                .map { row in
                    SigningKey(kid: row["kid"], algorithm: algorithm, privateKey: row["private_key"], createdAt: row["created_at"])
                }
        }
    }

    func insertSigningKey(_ key: SigningKey) async throws {
        try await writer.write { db in
            try db.execute(
                literal: """
                    INSERT INTO signing_keys (kid, algorithm, private_key, created_at)
                    VALUES (\(key.kid), \(key.algorithm.rawValue), \(key.privateKey), \(key.createdAt))
                    """
            )
        }
    }
}
