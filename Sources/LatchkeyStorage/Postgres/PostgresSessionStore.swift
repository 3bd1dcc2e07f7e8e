import Foundation
import LatchkeyCore
import PostgresNIO

struct PostgresSessionStore: SessionStore {
    let executor: PostgresExecutor
    let activeUsers: PostgresActiveUserBatcher

    /// The sessions past the cap are revoked by a second statement, after the new one is committed: of concurrent
    /// logins of one user, the last to trim then sees every new session (one statement sees only its own snapshot).
    func createSession(
        _ session: Session,
        refreshTokenHash: Data,
        maxLiveSessions: Int,
        clearingLoginFailures accountKey: String?,
        audit: AuditEvent?
    ) async throws {
        _ = try await executor.rows(CreateSessionQuery(session: session, refreshTokenHash: refreshTokenHash, accountKey: accountKey, audit: audit))
        _ = try await executor.rows(TrimSessionsQuery(session: session, maxLiveSessions: maxLiveSessions))
    }

    /// Optimistic, in one statement and no explicit transaction: it reads the state and, when the token is
    /// live, rotates it, re-checking in its WHERE clause that the token is still live. When a concurrent
    /// request rotated it in between (PostgreSQL re-evaluates the WHERE once the competitor commits), nothing
    /// is written and the statement runs again: its state then shows that rotation, whose successor is replayed.
    func rotateRefreshToken(_ rotation: RefreshRotation) async throws -> RefreshRotation.Outcome {
        for _ in 1...2 {
            guard let row = try await executor.rows(RotateOrReadQuery(rotation: rotation)).first else { return .invalid }
            let state = RefreshRotation.State(
                session: try Session(row: row),
                user: try User(row: row, prefix: "u_"),
                rotatedAt: try row.value("token_rotated_at"),
                sealedSuccessor: try row.value("sealed_successor"),
                successorIsLive: try row.value("successor_is_live", as: Bool?.self) ?? false
            )
            if try row.value("rotated", as: Bool.self) {
                return rotation.outcome(of: .rotate, session: state.session, user: state.user)
            }
            let decision = rotation.decide(state)
            switch decision {
            case .rotate:
                continue
            case .reuse:
                // Of concurrent requests bringing the stale token back, the one that revokes the session records it.
                let audit = rotation.auditEvent(for: .reuse, session: state.session)
                _ = try await executor.rows(RevokeReusedQuery(session: state.session, now: rotation.now, audit: audit))
            case .replay, .invalid, .accountDisabled:
                break
            }
            return rotation.outcome(of: decision, session: state.session, user: state.user)
        }
        // The second run always shows the competitor's rotation, so the loop returns before this.
        return .invalid
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
        let logger = executor.logger
        return try await executor.transaction { connection in
            // A refresh that commits while this waits for the row lock leaves its own successor out of this statement's
            // snapshot: the second look sees it.
            var found: PostgresRandomAccessRow?
            for _ in 1...2 where found == nil {
                found = try await connection.rows(
                    """
                    SELECT t.token_hash, s.amr FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
                    WHERE s.id = \(sessionID) AND s.user_id = \(userID) AND s.revoked_at IS NULL AND s.expires_at > \(now)
                      AND t.rotated_at IS NULL
                    FOR UPDATE OF t, s
                    """,
                    logger: logger
                ).first
            }
            guard let live = found else { return nil }
            let replaced = try live.value("token_hash", as: Data.self)
            let current = try live.value("amr", as: String.self).split(separator: " ").map(String.init)
            let sealed = try sealSuccessor(replaced)
            _ = try await connection.rows(
                """
                UPDATE refresh_tokens SET rotated_at = \(now), successor_hash = \(successorHash), sealed_successor = \(sealed)
                WHERE token_hash = \(replaced)
                """,
                logger: logger
            )
            _ = try await connection.rows(
                "INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES (\(successorHash), \(sessionID), \(now))",
                logger: logger
            )
            return try await connection.rows(
                """
                UPDATE sessions SET amr = \(amr(current).joined(separator: " ")), auth_time = \(now), last_used_at = \(now),
                                    expires_at = \(sessionExpiresAt)
                WHERE id = \(sessionID) RETURNING *
                """,
                logger: logger
            ).first.map(Session.init(row:))
        }
    }

    func activeUser(sessionID: UUID, userID: UUID, now: Date) async throws -> User? {
        try await activeUsers.activeUser(sessionID: sessionID, userID: userID, now: now)
    }

    func liveSessions(userID: UUID, now: Date, limit: Int, after: UUID?) async throws -> [Session] {
        try await executor.rows(
            """
            SELECT * FROM sessions WHERE user_id = \(userID) AND revoked_at IS NULL AND expires_at > \(now)
              AND (\(after)::uuid IS NULL OR (created_at, id) < (SELECT created_at, id FROM sessions WHERE id = \(after) AND user_id = \(userID)))
            ORDER BY created_at DESC, id DESC LIMIT \(limit)
            """
        ).map { try Session(row: $0) }
    }

    /// A session revoked already is found (the answer is the same) but not recorded again.
    func revokeSession(id: UUID, userID: UUID, now: Date, audit: AuditEvent) async throws -> Bool {
        let logger = executor.logger
        return try await executor.transaction { connection in
            guard
                let row = try await connection.rows(
                    "SELECT revoked_at FROM sessions WHERE id = \(id) AND user_id = \(userID) FOR UPDATE",
                    logger: logger
                ).first
            else { return false }
            guard try row.value("revoked_at", as: Date?.self) == nil else { return true }
            _ = try await connection.rows("UPDATE sessions SET revoked_at = \(now) WHERE id = \(id)", logger: logger)
            try await connection.record(audit, logger: logger)
            return true
        }
    }

    func revokeSession(refreshTokenHash: Data, now: Date, audit: AuditEvent) async throws {
        let logger = executor.logger
        try await executor.transaction { connection in
            guard
                let row = try await connection.rows(
                    """
                    UPDATE sessions SET revoked_at = \(now)
                    WHERE revoked_at IS NULL AND id = (SELECT session_id FROM refresh_tokens WHERE token_hash = \(refreshTokenHash))
                    RETURNING id, user_id
                    """,
                    logger: logger
                ).first
            else { return }
            try await connection.record(audit.about(userID: try row.value("user_id"), sessionID: try row.value("id")), logger: logger)
        }
    }

    func revokeAllSessions(userID: UUID, now: Date, audit: AuditEvent) async throws {
        try await executor.transaction { connection in
            _ = try await connection.rows(.revokeSessions(userID: userID, now: now), logger: executor.logger)
            try await connection.record(audit, logger: executor.logger)
        }
    }

    /// One statement: the batch is locked (skipping rows another instance is deleting), its refresh tokens go, then it.
    func deleteEnded(before: Date, limit: Int) async throws -> Int {
        try await executor.rows(
            """
            WITH ended AS (
                SELECT id FROM sessions WHERE expires_at < \(before) OR revoked_at < \(before) LIMIT \(limit) FOR UPDATE SKIP LOCKED
            ), tokens AS (
                DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM ended)
            )
            DELETE FROM sessions WHERE id IN (SELECT id FROM ended) RETURNING 1
            """
        ).count
    }
}

// The statements of every login, refresh and authenticated request, prepared once per connection.

/// Both rows, the login's cleared throttle and its audit event, in one statement: one round trip and no explicit
/// transaction.
private struct CreateSessionQuery: PostgresHotQuery {
    static let sql = """
        WITH session AS (
            INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip, amr, auth_time)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $\(10 + AuditInsert.count), $\(11 + AuditInsert.count))
        ), cleared AS (
            DELETE FROM login_throttles WHERE key = $9::text
        ), logged_in AS (
            UPDATE users SET last_login_at = $3 WHERE id = $2
        ), audited AS (
            \(AuditInsert.sql(from: 10))
        )
        INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES ($8, $1, $3)
        """
    var session: Session
    var refreshTokenHash: Data
    var accountKey: String?
    var audit: AuditEvent?

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 11 + AuditInsert.count)
        bindings.append(session.id)
        bindings.append(session.userID)
        bindings.append(session.createdAt)
        bindings.append(session.lastUsedAt)
        bindings.append(session.expiresAt)
        bindings.append(session.userAgent)
        bindings.append(session.ip)
        try bindings.append(refreshTokenHash)
        bindings.append(accountKey)
        bindings.append(audit: audit)
        bindings.append(session.amr.joined(separator: " "))
        bindings.append(session.authTime)
        return bindings
    }
}

/// Revokes the user's least recently used live sessions past the cap. One total order (no preference for the session
/// just created): concurrent trims that each see a different set of sessions then agree, and together revoke exactly
/// the sessions outside the cap's most recent; preferring each trim's own session made them revoke each other's.
///
/// The rows are locked in the order of their ids before they are changed: concurrent trims of one user lock overlapping
/// sets, and an `UPDATE … WHERE id IN (…)` locks them in whatever order its plan visits them, so two trims could each hold
/// a row the other waits for (a deadlock that failed one login of twelve in CI).
private struct TrimSessionsQuery: PostgresHotQuery {
    static let sql = """
        WITH past_cap AS (
            SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
            ORDER BY last_used_at DESC, created_at DESC, id DESC OFFSET $3
        ), locked AS (
            SELECT id FROM sessions WHERE id IN (SELECT id FROM past_cap) ORDER BY id FOR UPDATE
        )
        UPDATE sessions SET revoked_at = $2 WHERE id IN (SELECT id FROM locked) AND revoked_at IS NULL
        """
    var session: Session
    var maxLiveSessions: Int

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(session.userID)
        bindings.append(session.createdAt)
        bindings.append(maxLiveSessions)
        return bindings
    }
}

/// Revokes the session of a reused refresh token and records it, when it was still live: one statement.
private struct RevokeReusedQuery: PostgresHotQuery {
    static let sql = """
        WITH revoked AS (
            UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id, user_id
        )
        \(AuditInsert.sql(from: 3, aboutSessionIn: "revoked", when: "true"))
        """
    var session: Session
    var now: Date
    var audit: AuditEvent?

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2 + AuditInsert.count)
        bindings.append(session.id)
        bindings.append(now)
        bindings.append(audit: audit)
        return bindings
    }
}

/// Reads the presented token, its session and user, and whether its successor is still live (one snapshot,
/// from before the statement's own writes); and when `RefreshRotation.decide` would say `.rotate` — token
/// not rotated, session neither revoked nor expired, user not deleted — spends it, adds the successor and
/// extends the session. `rotated` says whether it did. One round trip for the common case.
private struct RotateOrReadQuery: PostgresHotQuery {
    static let sql = """
        WITH state AS (
            SELECT t.rotated_at AS token_rotated_at, t.sealed_successor,
                   (SELECT n.rotated_at IS NULL FROM refresh_tokens n WHERE n.token_hash = t.successor_hash) AS successor_is_live,
                   \(Columns.select(Columns.sessions, from: "s")), \(Columns.select(Columns.users, from: "u", prefix: "u_"))
            FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id JOIN users u ON u.id = s.user_id
            WHERE t.token_hash = $4
        ), spent AS (
            UPDATE refresh_tokens SET rotated_at = $1, successor_hash = $2, sealed_successor = $3
            WHERE token_hash = $4 AND rotated_at IS NULL
              AND EXISTS (
                  SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id
                  WHERE s.id = refresh_tokens.session_id AND s.revoked_at IS NULL AND s.expires_at > $1 AND u.deleted_at IS NULL
                    AND u.disabled_at IS NULL
              )
            RETURNING session_id
        ), successor AS (
            INSERT INTO refresh_tokens (token_hash, session_id, created_at) SELECT $2, session_id, $1 FROM spent
        ), touched AS (
            UPDATE sessions SET last_used_at = $1, expires_at = $5 WHERE id IN (SELECT session_id FROM spent)
        ), audited AS (
            \(AuditInsert.sql(from: 6, aboutSessionIn: "state", when: "EXISTS (SELECT 1 FROM spent)"))
        )
        SELECT state.*, EXISTS (SELECT 1 FROM spent) AS rotated FROM state
        """
    var rotation: RefreshRotation

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 5 + AuditInsert.count)
        bindings.append(rotation.now)
        try bindings.append(rotation.successorHash)
        try bindings.append(rotation.sealedSuccessor)
        try bindings.append(rotation.presentedHash)
        bindings.append(rotation.sessionExpiresAt)
        // Recorded only when this statement rotates, about the session `state` read.
        bindings.append(audit: AuditEvent(.tokenRefreshed, by: rotation.client, at: rotation.now))
        return bindings
    }
}
