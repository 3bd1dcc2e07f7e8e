import Foundation
import LatchkeyCore
import PostgresNIO

struct PostgresUserStore: UserStore {
    let executor: PostgresExecutor

    func insertUser(_ user: User, verification: (EmailToken, SealedMail)?, audit: AuditEvent) async throws {
        let logger = executor.logger
        do {
            try await executor.transaction { connection in
                _ = try await connection.rows(
                    """
                    INSERT INTO users (id, email, password_hash, name, role, email_verified, created_at, updated_at)
                    VALUES (\(user.id), \(user.email), \(user.passwordHash), \(user.name), \(user.role.rawValue), \(user.emailVerified),
                            \(user.createdAt), \(user.updatedAt))
                    """,
                    logger: logger
                )
                if let (token, mail) = verification { try await connection.issue(token, mail: mail, logger: logger) }
                try await connection.record(audit, logger: logger)
            }
        } catch let error as PSQLError where error.isUniqueViolation {
            throw AuthError.emailAlreadyRegistered
        }
    }

    func user(email: String) async throws -> User? {
        try await executor.rows(UserByEmailQuery(email: email)).first.map { try User(row: $0) }
    }

    func user(id: UUID) async throws -> User? {
        try await executor.rows("SELECT * FROM users WHERE id = \(id)").first.map { try User(row: $0) }
    }

    func updateName(userID: UUID, name: String, now: Date, audit: AuditEvent) async throws -> User? {
        let logger = executor.logger
        return try await executor.transaction { connection in
            guard
                let user = try await connection.rows(
                    "UPDATE users SET name = \(name), updated_at = \(now) WHERE id = \(userID) AND deleted_at IS NULL RETURNING *",
                    logger: logger
                ).first.map({ try User(row: $0) })
            else { return nil }
            try await connection.record(audit, logger: logger)
            return user
        }
    }

    func changePassword(userID: UUID, passwordHash: String, keepSessionID: UUID?, notice: SealedMail, now: Date, audit: AuditEvent) async throws {
        try await executor.transaction { connection in
            try await connection.setPassword(
                userID: userID,
                passwordHash: passwordHash,
                keepSessionID: keepSessionID,
                notice: notice,
                now: now,
                logger: executor.logger
            )
            try await connection.record(audit, logger: executor.logger)
        }
    }

    func rehashPassword(userID: UUID, from old: String, to new: String) async throws {
        try await executor.execute("UPDATE users SET password_hash = \(new) WHERE id = \(userID) AND password_hash = \(old)")
    }

    func softDelete(userID: UUID, now: Date, audit: AuditEvent) async throws {
        try await executor.transaction { connection in
            let deleted = try await connection.rows(
                "UPDATE users SET deleted_at = \(now), updated_at = \(now) WHERE id = \(userID) AND deleted_at IS NULL RETURNING id",
                logger: executor.logger
            )
            guard !deleted.isEmpty else { return }
            _ = try await connection.rows(.revokeSessions(userID: userID, now: now), logger: executor.logger)
            try await connection.record(audit, logger: executor.logger)
        }
    }
}

extension PostgresUserStore {
    func users(emailContaining: String?, limit: Int, after: UUID?, now: Date) async throws -> [UserSummary] {
        try await executor.rows(
            """
            SELECT u.*, (SELECT count(*) FROM sessions s WHERE s.user_id = u.id AND s.revoked_at IS NULL AND s.expires_at > \(now))::integer
                   AS active_sessions,
                   EXISTS (SELECT 1 FROM totp_factors f WHERE f.user_id = u.id AND f.confirmed_at IS NOT NULL) AS mfa_enabled,
                   (SELECT count(*) FROM passkeys p WHERE p.user_id = u.id)::integer AS passkeys
            FROM users u
            WHERE (\(emailContaining)::text IS NULL OR strpos(u.email, \(emailContaining)) > 0)
              AND (\(after)::uuid IS NULL OR (u.created_at, u.id) < (SELECT created_at, id FROM users WHERE id = \(after)))
            ORDER BY u.created_at DESC, u.id DESC LIMIT \(limit)
            """
        ).map { try UserSummary(row: $0) }
    }

    func summary(userID: UUID, now: Date) async throws -> UserSummary? {
        try await executor.rows(summaryQuery(userID: userID, now: now)).first.map { try UserSummary(row: $0) }
    }

    /// One transaction: the change, the revocation of a disabled account's sessions, and the summary read after both.
    func update(userID: UUID, _ changes: UserChanges, now: Date, audit: AuditEvent) async throws -> UserSummary? {
        try await executor.transaction { connection in
            let updated = try await connection.rows(
                """
                UPDATE users SET role = coalesce(\(changes.role?.rawValue), role), name = coalesce(\(changes.name), name),
                    email_verified = coalesce(\(changes.emailVerified), email_verified),
                    disabled_at = CASE WHEN \(changes.disabled)::boolean IS NULL THEN disabled_at
                                       WHEN \(changes.disabled)::boolean THEN coalesce(disabled_at, \(now)) END,
                    updated_at = \(now)
                WHERE id = \(userID) RETURNING id
                """,
                logger: executor.logger
            )
            guard !updated.isEmpty else { return nil }
            if changes.disabled == true {
                _ = try await connection.rows(.revokeSessions(userID: userID, now: now), logger: executor.logger)
            }
            try await connection.record(audit, logger: executor.logger)
            return try await connection.rows(summaryQuery(userID: userID, now: now), logger: executor.logger).first.map { try UserSummary(row: $0) }
        }
    }
}

private func summaryQuery(userID: UUID, now: Date) -> PostgresQuery {
    """
    SELECT u.*, (SELECT count(*) FROM sessions s WHERE s.user_id = u.id AND s.revoked_at IS NULL AND s.expires_at > \(now))::integer
           AS active_sessions,
           EXISTS (SELECT 1 FROM totp_factors f WHERE f.user_id = u.id AND f.confirmed_at IS NOT NULL) AS mfa_enabled,
           (SELECT count(*) FROM passkeys p WHERE p.user_id = u.id)::integer AS passkeys
    FROM users u WHERE u.id = \(userID)
    """
}

extension UserSummary {
    init(row: PostgresRandomAccessRow) throws {
        self.init(
            user: try User(row: row),
            lastLoginAt: try row.value("last_login_at"),
            activeSessions: try row.value("active_sessions"),
            mfaEnabled: try row.value("mfa_enabled"),
            passkeys: try row.value("passkeys")
        )
    }
}

/// Every login starts here.
private struct UserByEmailQuery: PostgresHotQuery {
    static let sql = "SELECT \(Columns.select(Columns.users, from: "users")) FROM users WHERE email = $1"
    var email: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(email)
        return bindings
    }
}
