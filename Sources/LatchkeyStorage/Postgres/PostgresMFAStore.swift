import Foundation
import LatchkeyCore
import PostgresNIO

/// Each use of a code is one conditional `UPDATE`: PostgreSQL's row lock decides between concurrent requests.
struct PostgresMFAStore: MFAStore {
    let executor: PostgresExecutor
    /// For the session a second step opens.
    let sessions: PostgresSessionStore

    func factors(userID: UUID) async throws -> SecondFactors {
        // A removed factor keeps its row, without a secret, for its last used step.
        let rows = try await executor.rows(
            """
            SELECT t.*, (SELECT count(*) FROM recovery_codes WHERE user_id = \(userID) AND used_at IS NULL) AS remaining
            FROM (SELECT 1) AS one LEFT JOIN totp_factors t ON t.user_id = \(userID) AND octet_length(t.sealed_secret) > 0
            """
        )
        guard let row = rows.first else { return SecondFactors(totp: nil, recoveryCodesRemaining: 0) }
        let totp = try row.value("sealed_secret", as: Data?.self) == nil ? nil : try TOTPRecord(row: row)
        return SecondFactors(totp: totp, recoveryCodesRemaining: Int(try row.value("remaining", as: Int64.self)))
    }

    func startTOTPEnrolment(userID: UUID, sealedSecret: Data, now: Date) async throws -> Bool {
        try await !executor.rows(
            """
            INSERT INTO totp_factors (user_id, sealed_secret, created_at) VALUES (\(userID), \(sealedSecret), \(now))
            ON CONFLICT (user_id) DO UPDATE SET sealed_secret = excluded.sealed_secret, created_at = excluded.created_at
            WHERE totp_factors.confirmed_at IS NULL
            RETURNING user_id
            """
        ).isEmpty
    }

    func confirmTOTP(
        userID: UUID,
        sealedSecret: Data,
        step: Int64,
        recoveryCodeHashes: [String],
        keepSessionID: UUID,
        now: Date,
        audit: AuditEvent
    ) async throws -> Bool {
        let logger = executor.logger
        return try await executor.transaction { connection in
            let confirmed = try await connection.rows(
                """
                UPDATE totp_factors SET confirmed_at = \(now), last_used_step = \(step)
                WHERE user_id = \(userID) AND confirmed_at IS NULL AND sealed_secret = \(sealedSecret)
                  AND (last_used_step IS NULL OR last_used_step < \(step))
                RETURNING user_id
                """,
                logger: logger
            )
            guard !confirmed.isEmpty else { return false }
            try await connection.replaceRecoveryCodes(userID: userID, hashes: recoveryCodeHashes, now: now, logger: logger)
            _ = try await connection.rows(.revokeSessions(userID: userID, except: keepSessionID, now: now), logger: logger)
            try await connection.record(audit, logger: logger)
            return true
        }
    }

    func useTOTPStep(userID: UUID, step: Int64) async throws -> Bool {
        try await !executor.rows(
            """
            UPDATE totp_factors SET last_used_step = \(step)
            WHERE user_id = \(userID) AND confirmed_at IS NOT NULL AND (last_used_step IS NULL OR last_used_step < \(step))
            RETURNING user_id
            """
        ).isEmpty
    }

    func useRecoveryCode(userID: UUID, hash: String, now: Date, audit: AuditEvent) async throws -> Bool {
        let logger = executor.logger
        return try await executor.transaction { connection in
            let used = try await connection.rows(
                """
                UPDATE recovery_codes SET used_at = \(now)
                WHERE user_id = \(userID) AND code_hash = \(hash) AND used_at IS NULL
                  AND EXISTS (SELECT 1 FROM totp_factors WHERE user_id = \(userID) AND confirmed_at IS NOT NULL)
                RETURNING user_id
                """,
                logger: logger
            )
            guard !used.isEmpty else { return false }
            try await connection.record(audit, logger: logger)
            return true
        }
    }

    func replaceRecoveryCodes(userID: UUID, hashes: [String], now: Date, audit: AuditEvent) async throws -> Bool {
        let logger = executor.logger
        return try await executor.transaction { connection in
            // The factor's row locked: a removal at the same time waits, or is seen.
            let on = try await connection.rows(
                "SELECT 1 FROM totp_factors WHERE user_id = \(userID) AND confirmed_at IS NOT NULL FOR UPDATE",
                logger: logger
            )
            guard !on.isEmpty else { return false }
            try await connection.replaceRecoveryCodes(userID: userID, hashes: hashes, now: now, logger: logger)
            try await connection.record(audit, logger: logger)
            return true
        }
    }

    func removeTOTP(userID: UUID, revokingSessions: Bool, now: Date, audit: AuditEvent) async throws -> Bool {
        let logger = executor.logger
        return try await executor.transaction { connection in
            let factor = try await connection.rows(
                "SELECT confirmed_at IS NOT NULL AS was_on FROM totp_factors WHERE user_id = \(userID) FOR UPDATE",
                logger: logger
            )
            let wasOn = try factor.first?.value("was_on", as: Bool.self) ?? false
            _ = try await connection.rows(
                "UPDATE totp_factors SET sealed_secret = ''::bytea, confirmed_at = NULL WHERE user_id = \(userID)",
                logger: logger
            )
            _ = try await connection.rows("DELETE FROM recovery_codes WHERE user_id = \(userID)", logger: logger)
            if revokingSessions { _ = try await connection.rows(.revokeSessions(userID: userID, now: now), logger: logger) }
            if wasOn || revokingSessions { try await connection.record(audit, logger: logger) }
            return wasOn
        }
    }

    func createChallenge(_ challenge: MFAChallenge) async throws {
        try await executor.execute(
            """
            INSERT INTO mfa_challenges (token_hash, user_id, amr, failures, created_at, expires_at)
            VALUES (\(challenge.tokenHash), \(challenge.userID), \(challenge.amr.joined(separator: " ")), 0, \(challenge.createdAt),
                    \(challenge.expiresAt))
            """
        )
    }

    func liveChallenge(tokenHash: Data, now: Date) async throws -> MFAChallenge? {
        try await executor.rows(
            """
            SELECT * FROM mfa_challenges
            WHERE token_hash = \(tokenHash) AND used_at IS NULL AND expires_at > \(now) AND failures < \(MFAChallenge.maxFailures)
            """
        ).first.map(MFAChallenge.init(row:))
    }

    func reserveChallengeAttempt(tokenHash: Data, now: Date) async throws -> MFAChallenge? {
        try await executor.rows(
            """
            UPDATE mfa_challenges SET failures = failures + 1
            WHERE token_hash = \(tokenHash) AND used_at IS NULL AND expires_at > \(now) AND failures < \(MFAChallenge.maxFailures)
            RETURNING *
            """
        ).first.map(MFAChallenge.init(row:))
    }

    func finishChallenge(tokenHash: Data, now: Date) async throws -> Bool {
        try await !executor.rows(
            """
            UPDATE mfa_challenges SET used_at = \(now), failures = failures - 1
            WHERE token_hash = \(tokenHash) AND used_at IS NULL AND expires_at > \(now)
            RETURNING token_hash
            """
        ).isEmpty
    }

    func deleteEndedChallenges(before: Date, limit: Int) async throws -> Int {
        try await executor.deleteEnded(.mfa, before: before, limit: limit)
    }
}

extension PostgresMFAStore {
    /// The statements each decide their own race, one after the other, as the separate store calls would: a write
    /// transaction around them would cost PostgreSQL round trips, not save them.
    func admitSecondStep(tokenHash: Data, throttle: LoginThrottle, now: Date) async throws -> SecondStepAdmission {
        guard let challenge = try await liveChallenge(tokenHash: tokenHash, now: now),
            let user = try await PostgresUserStore(executor: executor).user(id: challenge.userID)
        else { return .challengeGone }
        let factors = try await factors(userID: user.id)
        let attempt = LoginAttempt(accountKey: RateLimiter.secondFactorKey(user.id), throttle: throttle, ipBucket: nil)
        switch try await PostgresRateLimitStore(executor: executor).reserveLoginAttempt(attempt, now: now) {
        case .throttled(let retryAfter), .ipLimited(let retryAfter): return .throttled(retryAfter: retryAfter)
        case .reserved: break
        }
        guard let reserved = try await reserveChallengeAttempt(tokenHash: tokenHash, now: now) else { return .challengeGone }
        return .admitted(reserved, user, factors)
    }

    func completeSecondStep(
        tokenHash: Data,
        userID: UUID,
        code: SpendableCode,
        session: NewSession,
        now: Date
    ) async throws -> SecondStepCompletion {
        let spent =
            switch code {
            case .totpStep(let step): try await useTOTPStep(userID: userID, step: step)
            case .recoveryCode(let hash, let audit): try await useRecoveryCode(userID: userID, hash: hash, now: now, audit: audit)
            }
        guard spent else { return .codeRejected }
        guard try await finishChallenge(tokenHash: tokenHash, now: now) else { return .challengeGone }
        try await sessions.createSession(
            session.session,
            refreshTokenHash: session.refreshTokenHash,
            maxLiveSessions: session.maxLiveSessions,
            clearingLoginFailures: RateLimiter.secondFactorKey(userID),
            audit: session.audit
        )
        return .completed
    }
}

extension PostgresConnection {
    fileprivate func replaceRecoveryCodes(userID: UUID, hashes: [String], now: Date, logger: Logger) async throws {
        _ = try await rows("DELETE FROM recovery_codes WHERE user_id = \(userID)", logger: logger)
        _ = try await rows(
            "INSERT INTO recovery_codes (user_id, code_hash, created_at) SELECT \(userID), unnest(\(hashes)::text[]), \(now)",
            logger: logger
        )
    }
}

extension TOTPRecord {
    fileprivate init(row: PostgresRandomAccessRow) throws {
        self.init(
            sealedSecret: try row.value("sealed_secret", as: Data.self),
            createdAt: try row.value("created_at"),
            confirmedAt: try row.value("confirmed_at"),
            lastUsedStep: try row.value("last_used_step")
        )
    }
}

extension MFAChallenge {
    fileprivate init(row: PostgresRandomAccessRow) throws {
        self.init(
            tokenHash: try row.value("token_hash", as: Data.self),
            userID: try row.value("user_id"),
            amr: try row.value("amr", as: String.self).split(separator: " ").map(String.init),
            failures: Int(try row.value("failures", as: Int32.self)),
            createdAt: try row.value("created_at"),
            expiresAt: try row.value("expires_at")
        )
    }
}
