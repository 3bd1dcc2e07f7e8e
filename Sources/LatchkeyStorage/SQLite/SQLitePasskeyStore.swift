import Foundation
import GRDB
import LatchkeyCore

/// SQLite runs one writer at a time: a challenge is read and spent, and a removal checks what else lets the account in,
/// inside one write transaction.
struct SQLitePasskeyStore: PasskeyStore {
    let writer: any DatabaseWriter

    func userHandle(userID: UUID, proposed: Data) async throws -> Data {
        try await writer.write { db in
            try db.run(
                "INSERT INTO passkey_user_handles (user_id, handle) VALUES (\(userID.databaseText), \(proposed)) ON CONFLICT (user_id) DO NOTHING"
            )
            return try db.row("SELECT handle FROM passkey_user_handles WHERE user_id = \(userID.databaseText)")?["handle"] ?? proposed
        }
    }

    func createChallenge(_ challenge: PasskeyChallenge) async throws {
        try await writer.write { db in
            try db.run(
                """
                INSERT INTO passkey_challenges (hash, purpose, user_id, created_at, expires_at)
                VALUES (\(challenge.hash), \(challenge.purpose.rawValue), \(challenge.userID?.databaseText), \(challenge.createdAt),
                        \(challenge.expiresAt))
                """
            )
        }
    }

    func spendChallenge(hash: Data, now: Date) async throws -> PasskeyChallenge? {
        try await writer.write { db in
            try db.row(
                """
                UPDATE passkey_challenges SET used_at = \(now)
                WHERE hash = \(hash) AND used_at IS NULL AND expires_at > \(now)
                RETURNING *
                """
            ).flatMap(PasskeyChallenge.init(row:))
        }
    }

    func deleteEndedChallenges(before: Date, limit: Int) async throws -> Int {
        try await writer.write { db in try db.deleteEnded(.passkey, before: before, limit: limit) }
    }

    func passkeys(userID: UUID) async throws -> [Passkey] {
        try await writer.read { db in
            try db.rows("SELECT * FROM passkeys WHERE user_id = \(userID.databaseText) ORDER BY created_at, id").map(Passkey.init(row:))
        }
    }

    func passkey(credentialID: Data) async throws -> (passkey: Passkey, userHandle: Data)? {
        try await writer.read { db in
            try db.row(
                """
                SELECT p.*, h.handle FROM passkeys p JOIN passkey_user_handles h ON h.user_id = p.user_id
                WHERE p.credential_id = \(credentialID)
                """
            ).map { (Passkey(row: $0), $0["handle"]) }
        }
    }

    func add(_ passkey: Passkey, audit: AuditEvent) async throws -> Bool {
        try await writer.write { db in
            try db.run(
                """
                INSERT INTO passkeys (id, user_id, credential_id, public_key, sign_count, backup_eligible, backed_up, transports,
                                      aaguid, name, created_at)
                VALUES (\(passkey.id.databaseText), \(passkey.userID.databaseText), \(passkey.credentialID), \(passkey.publicKey),
                        \(passkey.signCount), \(passkey.backupEligible), \(passkey.backedUp), \(passkey.transports.joined(separator: " ")),
                        \(passkey.aaguid.databaseText), \(passkey.name), \(passkey.createdAt))
                ON CONFLICT (credential_id) DO NOTHING
                """
            )
            guard db.changesCount > 0 else { return false }
            try db.record(audit)
            return true
        }
    }

    func recordUse(id: UUID, previousSignCount: Int64, signCount: Int64, backedUp: Bool, now: Date) async throws -> Bool {
        try await writer.write { db in
            try db.run(
                """
                UPDATE passkeys SET sign_count = \(signCount), backed_up = \(backedUp), last_used_at = \(now)
                WHERE id = \(id.databaseText) AND sign_count = \(previousSignCount)
                """
            )
            return db.changesCount > 0
        }
    }

    func rename(id: UUID, userID: UUID, name: String) async throws -> Passkey? {
        try await writer.write { db in
            try db.row(
                "UPDATE passkeys SET name = \(name) WHERE id = \(id.databaseText) AND user_id = \(userID.databaseText) RETURNING *"
            ).map(Passkey.init(row:))
        }
    }

    func remove(id: UUID, userID: UUID, audit: AuditEvent) async throws -> PasskeyRemoval {
        try await writer.write { db in
            guard
                let row = try db.row(
                    """
                    SELECT u.password_hash != '' AS has_password,
                           (SELECT count(*) FROM passkeys WHERE user_id = u.id AND id != \(id.databaseText)) AS others
                    FROM passkeys p JOIN users u ON u.id = p.user_id
                    WHERE p.id = \(id.databaseText) AND p.user_id = \(userID.databaseText)
                    """
                )
            else { return .notFound }
            guard row["has_password"] as Bool || row["others"] as Int > 0 else { return .lastSignInMethod }
            try db.run("DELETE FROM passkeys WHERE id = \(id.databaseText)")
            try db.record(audit)
            return .removed
        }
    }
}

extension Passkey {
    fileprivate init(row: Row) {
        self.init(
            id: row.uuid("id"),
            userID: row.uuid("user_id"),
            credentialID: row["credential_id"],
            publicKey: row["public_key"],
            signCount: row["sign_count"],
            backupEligible: row["backup_eligible"],
            backedUp: row["backed_up"],
            transports: (row["transports"] as String).split(separator: " ").map(String.init),
            aaguid: row.uuid("aaguid"),
            name: row["name"],
            createdAt: row["created_at"],
            lastUsedAt: row["last_used_at"]
        )
    }
}

extension PasskeyChallenge {
    /// Nil for a purpose this version does not know: such a challenge serves no ceremony.
    fileprivate init?(row: Row) {
        guard let purpose = Purpose(rawValue: row["purpose"]) else { return nil }
        self.init(
            hash: row["hash"],
            purpose: purpose,
            userID: (row["user_id"] as String?).flatMap(UUID.init(uuidString:)),
            createdAt: row["created_at"],
            expiresAt: row["expires_at"]
        )
    }
}
