import Foundation
import LatchkeyCore
import PostgresNIO

struct PostgresSessionStore: SessionStore {
    let executor: PostgresExecutor

    func createSession(_ session: Session, refreshTokenHash: Data) async throws {
        try await executor.transaction { connection in
            _ = try await connection.rows(
                """
                INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip)
                VALUES (\(session.id), \(session.userID), \(session.createdAt), \(session.lastUsedAt), \(session.expiresAt),
                        \(session.userAgent), \(session.ip))
                """,
                logger: executor.logger
            )
            _ = try await connection.rows(
                "INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES (\(refreshTokenHash), \(session.id), \(session.createdAt))",
                logger: executor.logger
            )
        }
    }

    /// The presented token's row is locked first, so concurrent rotations of one token queue up; the state is
    /// read by a second statement, whose fresh snapshot sees the successor a competitor just committed.
    func rotateRefreshToken(_ rotation: RefreshRotation) async throws -> RefreshRotation.Outcome {
        let logger = executor.logger
        return try await executor.transaction { connection in
            let locked = try await connection.rows(
                "SELECT 1 FROM refresh_tokens WHERE token_hash = \(rotation.presentedHash) FOR UPDATE",
                logger: logger
            )
            guard !locked.isEmpty,
                let row = try await connection.rows(
                    """
                    SELECT t.rotated_at AS token_rotated_at, t.sealed_successor, s.*,
                           (SELECT n.rotated_at IS NULL FROM refresh_tokens n WHERE n.token_hash = t.successor_hash) AS successor_is_live
                    FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
                    WHERE t.token_hash = \(rotation.presentedHash)
                    """,
                    logger: logger
                ).first,
                let user = try await connection.rows("SELECT * FROM users WHERE id = \(try row.value("user_id", as: UUID.self))", logger: logger)
                    .first.map({ try User(row: $0) })
            else { return .invalid }
            let session = try Session(row: row)
            let state = RefreshRotation.State(
                session: session,
                user: user,
                rotatedAt: try row.value("token_rotated_at"),
                sealedSuccessor: try row.value("sealed_successor"),
                successorIsLive: try row.value("successor_is_live", as: Bool?.self) ?? false
            )
            let decision = rotation.decide(state)
            switch decision {
            case .rotate:
                // One round trip for the three writes.
                _ = try await connection.rows(
                    """
                    WITH spent AS (
                        UPDATE refresh_tokens SET rotated_at = \(rotation.now), successor_hash = \(rotation.successorHash),
                               sealed_successor = \(rotation.sealedSuccessor)
                        WHERE token_hash = \(rotation.presentedHash)
                    ), successor AS (
                        INSERT INTO refresh_tokens (token_hash, session_id, created_at)
                        VALUES (\(rotation.successorHash), \(session.id), \(rotation.now))
                    )
                    UPDATE sessions SET last_used_at = \(rotation.now), expires_at = \(rotation.sessionExpiresAt) WHERE id = \(session.id)
                    """,
                    logger: logger
                )
            case .reuse:
                _ = try await connection.rows("UPDATE sessions SET revoked_at = \(rotation.now) WHERE id = \(session.id)", logger: logger)
            case .replay, .invalid, .accountDisabled:
                break
            }
            return rotation.outcome(of: decision, session: session, user: user)
        }
    }

    func activeUser(sessionID: UUID, userID: UUID, now: Date) async throws -> User? {
        try await executor.rows(
            """
            SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.id = \(sessionID) AND s.user_id = \(userID) AND s.revoked_at IS NULL AND s.expires_at > \(now)
              AND u.deleted_at IS NULL
            """
        ).first.map { try User(row: $0) }
    }

    func liveSessions(userID: UUID, now: Date) async throws -> [Session] {
        try await executor.rows(
            """
            SELECT * FROM sessions WHERE user_id = \(userID) AND revoked_at IS NULL AND expires_at > \(now)
            ORDER BY created_at DESC
            """
        ).map { try Session(row: $0) }
    }

    func revokeSession(id: UUID, userID: UUID, now: Date) async throws -> Bool {
        try await !executor.rows(
            "UPDATE sessions SET revoked_at = coalesce(revoked_at, \(now)) WHERE id = \(id) AND user_id = \(userID) RETURNING id"
        ).isEmpty
    }

    func revokeSession(refreshTokenHash: Data, now: Date) async throws {
        try await executor.execute(
            """
            UPDATE sessions SET revoked_at = \(now)
            WHERE revoked_at IS NULL AND id = (SELECT session_id FROM refresh_tokens WHERE token_hash = \(refreshTokenHash))
            """
        )
    }

    func revokeAllSessions(userID: UUID, now: Date) async throws {
        try await executor.execute("UPDATE sessions SET revoked_at = \(now) WHERE user_id = \(userID) AND revoked_at IS NULL")
    }
}

extension Session {
    init(row: PostgresRandomAccessRow) throws {
        self.init(
            id: try row.value("id"),
            userID: try row.value("user_id"),
            createdAt: try row.value("created_at"),
            lastUsedAt: try row.value("last_used_at"),
            expiresAt: try row.value("expires_at"),
            userAgent: try row.value("user_agent"),
            ip: try row.value("ip"),
            revokedAt: try row.value("revoked_at")
        )
    }
}
