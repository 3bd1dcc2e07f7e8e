import Foundation
import LatchkeyCore
import PostgresNIO

struct PostgresSigningKeyStore: SigningKeyStore {
    let executor: PostgresExecutor

    /// Held by key creation at start-up and by retirement, each for its transaction.
    private static let keysLock = PostgresMigrations.lockKey + 1

    /// Under an advisory lock, so instances starting together do not each create a key.
    func signingKeys(
        algorithm: SigningAlgorithm,
        creatingIfNone makeKey: @escaping @Sendable () throws -> (SigningKey, AuditEvent)
    ) async throws -> [SigningKey] {
        let logger = executor.logger
        return try await executor.transaction { connection in
            _ = try await connection.rows("SELECT pg_advisory_xact_lock(\(Self.keysLock))", logger: logger)
            let query: PostgresQuery =
                "SELECT * FROM signing_keys WHERE algorithm = \(algorithm.rawValue) AND retired_at IS NULL ORDER BY created_at, kid"
            if try await connection.rows(query, logger: logger).isEmpty {
                let (key, audit) = try makeKey()
                _ = try await connection.rows(insertQuery(key), logger: logger)
                try await connection.record(audit, logger: logger)
            }
            return try await connection.rows(query, logger: logger).map { try SigningKey(row: $0) }
        }
    }

    func replacePrivateKey(kid: String, with privateKey: String) async throws {
        try await executor.execute("UPDATE signing_keys SET private_key = \(privateKey) WHERE kid = \(kid)")
    }

    func allSigningKeys() async throws -> [SigningKey] {
        try await executor.rows("SELECT * FROM signing_keys ORDER BY created_at, kid").map { try SigningKey(row: $0) }
    }

    func addSigningKey(_ key: SigningKey, audit: AuditEvent) async throws {
        try await executor.transaction { connection in
            _ = try await connection.rows(insertQuery(key), logger: executor.logger)
            try await connection.record(audit, logger: executor.logger)
        }
    }

    func retireSigningKey(kid: String, now: Date, audit: AuditEvent, check: @escaping @Sendable ([SigningKey]) throws -> Void) async throws -> Bool {
        let logger = executor.logger
        return try await executor.transaction { connection in
            _ = try await connection.rows("SELECT pg_advisory_xact_lock(\(Self.keysLock))", logger: logger)
            let live = try await connection.rows("SELECT * FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at, kid", logger: logger)
            try check(try live.map { try SigningKey(row: $0) })
            let retired = try await connection.rows(
                "UPDATE signing_keys SET retired_at = \(now) WHERE kid = \(kid) AND retired_at IS NULL RETURNING kid",
                logger: logger
            )
            guard !retired.isEmpty else { return false }
            try await connection.record(audit, logger: logger)
            return true
        }
    }
}

private func insertQuery(_ key: SigningKey) -> PostgresQuery {
    """
    INSERT INTO signing_keys (kid, algorithm, private_key, created_at, activates_at)
    VALUES (\(key.kid), \(key.algorithm.rawValue), \(key.privateKey), \(key.createdAt), \(key.activatesAt))
    """
}
