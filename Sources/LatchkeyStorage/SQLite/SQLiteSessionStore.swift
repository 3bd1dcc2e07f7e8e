import Foundation
import GRDB
import LatchkeyCore

struct SQLiteSessionStore: SessionStore {
    let writer: any DatabaseWriter
    let cache: SQLiteSessionCache
    let rotations: Batcher<RefreshRotation, RefreshRotation.Outcome>

    /// The sessions past the cap are revoked after the new one is written, so that of concurrent logins the last to
    /// trim sees them all (the same order as on PostgreSQL, where it matters).
    func createSession(
        _ session: Session,
        refreshTokenHash: Data,
        maxLiveSessions: Int,
        clearingLoginFailures accountKey: String?,
        audit: AuditEvent?
    ) async throws {
        try await writer.write { db in
            if let accountKey { try db.clearLoginFailures(accountKey: accountKey) }
            try db.insert(session, refreshTokenHash: refreshTokenHash, maxLiveSessions: maxLiveSessions, audit: audit)
        }
    }

    func rotateRefreshToken(_ rotation: RefreshRotation) async throws -> RefreshRotation.Outcome {
        try await rotations.submit(rotation)
    }

    /// Group commit (`Batcher.groupCommit`): without it a rotation's audit event cost a quarter of refresh's throughput.
    static func rotations(writer: any DatabaseWriter) -> Batcher<RefreshRotation, RefreshRotation.Outcome> {
        .groupCommit(writer: writer) { db, rotation in try db.rotate(rotation) }
    }

    func stepUp(
        sessionID: UUID,
        userID: UUID,
        amr: @escaping @Sendable (_ current: [String]) -> [String],
        successorHash: Data,
        sealSuccessor: @escaping @Sendable (_ replacedKey: Data) throws -> Data,
        sessionExpiresAt: Date,
        now: Date
    ) async throws -> Session? {
        try await writer.write { db in
            guard
                let live = try db.row(
                    """
                    SELECT t.token_hash, s.amr FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
                    WHERE s.id = \(sessionID.databaseText) AND s.user_id = \(userID.databaseText) AND s.revoked_at IS NULL
                      AND s.expires_at > \(now) AND t.rotated_at IS NULL
                    """
                )
            else { return nil }
            let replaced: Data = live["token_hash"]
            let current = (live["amr"] as String).split(separator: " ").map(String.init)
            try db.run(sql: RotationSQL.spend, [now, successorHash, try sealSuccessor(replaced), replaced])
            try db.run(sql: RotationSQL.insertRefreshToken, [successorHash, sessionID.databaseText, now])
            return try db.row(
                """
                UPDATE sessions SET amr = \(amr(current).joined(separator: " ")), auth_time = \(now), last_used_at = \(now),
                                    expires_at = \(sessionExpiresAt)
                WHERE id = \(sessionID.databaseText) RETURNING *
                """
            ).map(Session.init(row:))
        }
    }

    func activeUser(sessionID: UUID, userID: UUID, now: Date) async throws -> User? {
        if let user = cache.user(sessionID: sessionID, userID: userID, now: now) { return user }
        let generation = cache.generation
        // Expiry is checked in Swift, so the cached answer holds the session's expiry, not a verdict.
        let entry = try await writer.read { db in
            try db.row(
                """
                SELECT s.rowid AS session_rowid, s.expires_at AS session_expires_at, u.rowid AS user_rowid, u.*
                FROM sessions s JOIN users u ON u.id = s.user_id
                WHERE s.id = \(sessionID.databaseText) AND s.user_id = \(userID.databaseText) AND s.revoked_at IS NULL
                  AND u.deleted_at IS NULL AND u.disabled_at IS NULL
                """
            ).map { row in
                SQLiteSessionCache.Entry(
                    user: User(row: row),
                    sessionExpiresAt: row["session_expires_at"],
                    sessionRowID: row["session_rowid"],
                    userRowID: row["user_rowid"],
                    cachedAt: now
                )
            }
        }
        guard let entry else { return nil }
        cache.remember(entry, for: sessionID, readAt: generation)
        return entry.sessionExpiresAt > now ? entry.user : nil
    }

    func liveSessions(userID: UUID, now: Date, limit: Int, after: UUID?) async throws -> [Session] {
        try await writer.read { db in
            try db.rows(
                """
                SELECT * FROM sessions WHERE user_id = \(userID.databaseText) AND revoked_at IS NULL AND expires_at > \(now)
                  AND (\(after?.databaseText) IS NULL OR (created_at, id) < (SELECT created_at, id FROM sessions WHERE id = \(after?.databaseText) AND user_id = \(userID.databaseText)))
                ORDER BY created_at DESC, id DESC LIMIT \(limit)
                """
            ).map(Session.init(row:))
        }
    }

    /// A session revoked already is found (the answer is the same) but not recorded again.
    func revokeSession(id: UUID, userID: UUID, now: Date, audit: AuditEvent) async throws -> Bool {
        try await writer.write { db in
            guard let row = try db.row("SELECT revoked_at FROM sessions WHERE id = \(id.databaseText) AND user_id = \(userID.databaseText)")
            else { return false }
            guard (row["revoked_at"] as Date?) == nil else { return true }
            try db.run("UPDATE sessions SET revoked_at = \(now) WHERE id = \(id.databaseText)")
            try db.record(audit)
            return true
        }
    }

    func revokeSession(refreshTokenHash: Data, now: Date, audit: AuditEvent) async throws {
        try await writer.write { db in
            guard
                let row = try db.row(
                    """
                    UPDATE sessions SET revoked_at = \(now)
                    WHERE revoked_at IS NULL AND id = (SELECT session_id FROM refresh_tokens WHERE token_hash = \(refreshTokenHash))
                    RETURNING id, user_id
                    """
                )
            else { return }
            try db.record(audit.about(userID: row.uuid("user_id"), sessionID: row.uuid("id")))
        }
    }

    func revokeAllSessions(userID: UUID, now: Date, audit: AuditEvent) async throws {
        try await writer.write { db in
            try db.revokeSessions(userID: userID, now: now)
            try db.record(audit)
        }
    }

    func deleteEnded(before: Date, limit: Int) async throws -> Int {
        try await writer.write { db in
            let ids = try db.rows("SELECT id FROM sessions WHERE expires_at < \(before) OR revoked_at < \(before) LIMIT \(limit)")
                .map { $0["id"] as String }
            try db.run("DELETE FROM refresh_tokens WHERE session_id IN \(ids)")
            try db.run("DELETE FROM sessions WHERE id IN \(ids)")
            return ids.count
        }
    }
}

extension GRDB.Database {
    /// One rotation, inside the batch's transaction. SQLite runs one writer at a time, so reading the state and acting
    /// on it in one write transaction is race-free, across processes too. The statements are written out once
    /// (`RotationSQL`): building them from interpolations for every rotation was a fifth of the writer's time.
    fileprivate func rotate(_ rotation: RefreshRotation) throws -> RefreshRotation.Outcome {
        guard let row = try Row.fetchOne(cachedStatement(sql: RotationSQL.state), arguments: [rotation.presentedHash]) else { return .invalid }
        let session = Session(row: row)
        let user = User(row: row, prefix: "u_")
        let state = RefreshRotation.State(
            session: session,
            user: user,
            rotatedAt: row["token_rotated_at"],
            sealedSuccessor: row["sealed_successor"],
            successorIsLive: row["successor_is_live"] ?? false
        )
        let decision = rotation.decide(state)
        switch decision {
        case .rotate:
            try run(sql: RotationSQL.spend, [rotation.now, rotation.successorHash, rotation.sealedSuccessor, rotation.presentedHash])
            try run(sql: RotationSQL.insertRefreshToken, [rotation.successorHash, session.id.databaseText, rotation.now])
            try run(sql: RotationSQL.extendSession, [rotation.now, rotation.sessionExpiresAt, session.id.databaseText])
        case .reuse:
            try run(sql: RotationSQL.revokeSession, [rotation.now, session.id.databaseText])
        case .replay, .invalid, .accountDisabled:
            break
        }
        try record(rotation.auditEvent(for: decision, session: session))
        return rotation.outcome(of: decision, session: session, user: user)
    }
}

/// The statements of every sign-in, written out with placeholders: building them from interpolations showed in the
/// second factor's throughput.
private enum SessionSQL {
    static let insert = """
        INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip, amr, auth_time)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    static let lastLogin = "UPDATE users SET last_login_at = ? WHERE id = ?"
    static let trim = """
        UPDATE sessions SET revoked_at = ?
        WHERE id IN (
            SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?
            ORDER BY last_used_at DESC, created_at DESC, id DESC LIMIT -1 OFFSET ?
        )
        """
}

private enum RotationSQL {
    static let state = """
        SELECT t.rotated_at AS token_rotated_at, t.sealed_successor, s.*,
               (SELECT n.rotated_at IS NULL FROM refresh_tokens n WHERE n.token_hash = t.successor_hash) AS successor_is_live,
               \(Columns.select(Columns.users, from: "u", prefix: "u_"))
        FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id JOIN users u ON u.id = s.user_id
        WHERE t.token_hash = ?
        """
    static let spend = "UPDATE refresh_tokens SET rotated_at = ?, successor_hash = ?, sealed_successor = ? WHERE token_hash = ?"
    static let insertRefreshToken = "INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES (?, ?, ?)"
    static let extendSession = "UPDATE sessions SET last_used_at = ?, expires_at = ? WHERE id = ?"
    static let revokeSession = "UPDATE sessions SET revoked_at = ? WHERE id = ?"
}

extension GRDB.Database {
    /// A new session and its first refresh token, inside the caller's write transaction; then the user's least recently
    /// used live sessions past the cap are revoked (see `SessionStore.createSession`).
    func insert(_ session: Session, refreshTokenHash: Data, maxLiveSessions: Int, audit: AuditEvent?) throws {
        let (id, userID, now) = (session.id.databaseText, session.userID.databaseText, session.createdAt)
        try run(
            sql: SessionSQL.insert,
            [
                id, userID, now, session.lastUsedAt, session.expiresAt, session.userAgent, session.ip, session.amr.joined(separator: " "),
                session.authTime,
            ]
        )
        try run(sql: RotationSQL.insertRefreshToken, [refreshTokenHash, id, now])
        try run(sql: SessionSQL.lastLogin, [now, userID])
        try record(audit)
        try run(sql: SessionSQL.trim, [now, userID, now, maxLiveSessions])
    }
}
