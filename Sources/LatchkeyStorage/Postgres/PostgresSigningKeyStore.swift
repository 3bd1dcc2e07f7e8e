import Foundation
import LatchkeyCore
import PostgresNIO

struct PostgresSigningKeyStore: SigningKeyStore {
    let executor: PostgresExecutor

    /// Under an advisory lock, so instances starting together do not each create a key.
    func signingKeys(algorithm: SigningAlgorithm, creatingIfNone makeKey: @escaping @Sendable () throws -> SigningKey) async throws -> [SigningKey] {
        let logger = executor.logger
        return try await executor.transaction { connection in
            _ = try await connection.rows("SELECT pg_advisory_xact_lock(\(PostgresMigrations.lockKey + 1))", logger: logger)
            let query: PostgresQuery = "SELECT * FROM signing_keys WHERE algorithm = \(algorithm.rawValue) ORDER BY created_at, kid"
            if try await connection.rows(query, logger: logger).isEmpty {
                let key = try makeKey()
                _ = try await connection.rows(
                    """
                    INSERT INTO signing_keys (kid, algorithm, private_key, created_at)
                    VALUES (\(key.kid), \(key.algorithm.rawValue), \(key.privateKey), \(key.createdAt))
                    """,
                    logger: logger
                )
            }
            return try await connection.rows(query, logger: logger).map { try SigningKey(row: $0) }
        }
    }

    func replacePrivateKey(kid: String, with privateKey: String) async throws {
        try await executor.execute("UPDATE signing_keys SET private_key = \(privateKey) WHERE kid = \(kid)")
    }
}
