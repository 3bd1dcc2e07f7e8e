import Foundation
import LatchkeyCore
import PostgresNIO

/// A challenge is spent by one conditional `UPDATE`; a removal locks the account's row, so that two removals of an
/// account's last two ways in cannot both pass.
struct PostgresPasskeyStore: PasskeyStore {
    let executor: PostgresExecutor

    func userHandle(userID: UUID, proposed: Data) async throws -> Data {
        let rows = try await executor.rows(
            """
            WITH added AS (
                INSERT INTO passkey_user_handles (user_id, handle) VALUES (\(userID), \(proposed)) ON CONFLICT (user_id) DO NOTHING
                RETURNING handle
            )
            SELECT handle FROM added UNION ALL SELECT handle FROM passkey_user_handles WHERE user_id = \(userID)
            """
        )
        return try rows.first?.value("handle", as: Data.self) ?? proposed
    }

    func createChallenge(_ challenge: PasskeyChallenge) async throws {
        try await executor.execute(
            """
            INSERT INTO passkey_challenges (hash, purpose, user_id, created_at, expires_at)
            VALUES (\(challenge.hash), \(challenge.purpose.rawValue), \(challenge.userID), \(challenge.createdAt), \(challenge.expiresAt))
            """
        )
    }

    func spendChallenge(hash: Data, now: Date) async throws -> PasskeyChallenge? {
        try await executor.rows(
            """
            UPDATE passkey_challenges SET used_at = \(now)
            WHERE hash = \(hash) AND used_at IS NULL AND expires_at > \(now)
            RETURNING *
            """
        ).first.flatMap { try PasskeyChallenge(row: $0) }
    }

    func deleteEndedChallenges(before: Date, limit: Int) async throws -> Int {
        try await executor.deleteEnded(.passkey, before: before, limit: limit)
    }

    func passkeys(userID: UUID) async throws -> [Passkey] {
        try await executor.rows("SELECT * FROM passkeys WHERE user_id = \(userID) ORDER BY created_at, id").map(Passkey.init(row:))
    }

    func passkey(credentialID: Data) async throws -> (passkey: Passkey, userHandle: Data)? {
        try await executor.rows(
            """
            SELECT p.*, h.handle FROM passkeys p JOIN passkey_user_handles h ON h.user_id = p.user_id
            WHERE p.credential_id = \(credentialID)
            """
        ).first.map { (try Passkey(row: $0), try $0.value("handle", as: Data.self)) }
    }

    func add(_ passkey: Passkey, audit: AuditEvent) async throws -> Bool {
        let logger = executor.logger
        return try await executor.transaction { connection in
            let added = try await connection.rows(
                """
                INSERT INTO passkeys (id, user_id, credential_id, public_key, sign_count, backup_eligible, backed_up, transports,
                                      aaguid, name, created_at)
                VALUES (\(passkey.id), \(passkey.userID), \(passkey.credentialID), \(passkey.publicKey), \(passkey.signCount),
                        \(passkey.backupEligible), \(passkey.backedUp), \(passkey.transports.joined(separator: " ")), \(passkey.aaguid),
                        \(passkey.name), \(passkey.createdAt))
                ON CONFLICT (credential_id) DO NOTHING
                RETURNING id
                """,
                logger: logger
            )
            guard !added.isEmpty else { return false }
            try await connection.record(audit, logger: logger)
            return true
        }
    }

    func recordUse(id: UUID, previousSignCount: Int64, signCount: Int64, backedUp: Bool, now: Date) async throws -> Bool {
        try await !executor.rows(
            """
            UPDATE passkeys SET sign_count = \(signCount), backed_up = \(backedUp), last_used_at = \(now)
            WHERE id = \(id) AND sign_count = \(previousSignCount)
            RETURNING id
            """
        ).isEmpty
    }

    func rename(id: UUID, userID: UUID, name: String) async throws -> Passkey? {
        try await executor.rows("UPDATE passkeys SET name = \(name) WHERE id = \(id) AND user_id = \(userID) RETURNING *")
            .first.map(Passkey.init(row:))
    }

    func remove(id: UUID, userID: UUID, audit: AuditEvent) async throws -> PasskeyRemoval {
        let logger = executor.logger
        return try await executor.transaction { connection in
            // The lock first, then the count in a statement of its own: a statement that waited for the lock still
            // counts by the snapshot it started with, which would miss a removal committed meanwhile.
            _ = try await connection.rows("SELECT 1 FROM users WHERE id = \(userID) FOR UPDATE", logger: logger)
            let account = try await connection.rows(
                """
                SELECT u.password_hash != '' AS has_password,
                       EXISTS (SELECT 1 FROM passkeys WHERE id = \(id) AND user_id = u.id) AS owns,
                       (SELECT count(*) FROM passkeys WHERE user_id = u.id AND id != \(id)) AS others
                FROM users u WHERE u.id = \(userID)
                """,
                logger: logger
            )
            guard let row = account.first, try row.value("owns", as: Bool.self) else { return .notFound }
            guard try row.value("has_password", as: Bool.self) || row.value("others", as: Int64.self) > 0 else { return .lastSignInMethod }
            _ = try await connection.rows("DELETE FROM passkeys WHERE id = \(id)", logger: logger)
            try await connection.record(audit, logger: logger)
            return .removed
        }
    }
}

extension Passkey {
    fileprivate init(row: PostgresRandomAccessRow) throws {
        self.init(
            id: try row.value("id"),
            userID: try row.value("user_id"),
            credentialID: try row.value("credential_id", as: Data.self),
            publicKey: try row.value("public_key", as: Data.self),
            signCount: try row.value("sign_count"),
            backupEligible: try row.value("backup_eligible"),
            backedUp: try row.value("backed_up"),
            transports: try row.value("transports", as: String.self).split(separator: " ").map(String.init),
            aaguid: try row.value("aaguid"),
            name: try row.value("name"),
            createdAt: try row.value("created_at"),
            lastUsedAt: try row.value("last_used_at")
        )
    }
}

extension PasskeyChallenge {
    /// Nil for a purpose this version does not know: such a challenge serves no ceremony.
    fileprivate init?(row: PostgresRandomAccessRow) throws {
        guard let purpose = Purpose(rawValue: try row.value("purpose", as: String.self)) else { return nil }
        self.init(
            hash: try row.value("hash", as: Data.self),
            purpose: purpose,
            userID: try row.value("user_id"),
            createdAt: try row.value("created_at"),
            expiresAt: try row.value("expires_at")
        )
    }
}
