import Foundation
import GRDB
import LatchkeyCore

/// SQLite runs one writer at a time: each use of a code reads and changes its row inside one write transaction.
struct SQLiteMFAStore: MFAStore {
    let writer: any DatabaseWriter
    let secondSteps: SecondSteps

    func factors(userID: UUID) async throws -> SecondFactors {
        try await writer.read { db in try db.factors(userID: userID) }
    }

    func startTOTPEnrolment(userID: UUID, sealedSecret: Data, now: Date) async throws -> Bool {
        try await writer.write { db in
            try db.run(
                """
                INSERT INTO totp_factors (user_id, sealed_secret, created_at) VALUES (\(userID.databaseText), \(sealedSecret), \(now))
                ON CONFLICT (user_id) DO UPDATE SET sealed_secret = excluded.sealed_secret, created_at = excluded.created_at
                WHERE totp_factors.confirmed_at IS NULL
                """
            )
            return db.changesCount > 0
        }
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
        try await writer.write { db in
            try db.run(
                """
                UPDATE totp_factors SET confirmed_at = \(now), last_used_step = \(step)
                WHERE user_id = \(userID.databaseText) AND confirmed_at IS NULL AND sealed_secret = \(sealedSecret)
                  AND (last_used_step IS NULL OR last_used_step < \(step))
                """
            )
            guard db.changesCount > 0 else { return false }
            try db.replaceRecoveryCodes(userID: userID, hashes: recoveryCodeHashes, now: now)
            try db.revokeSessions(userID: userID, except: keepSessionID, now: now)
            try db.record(audit)
            return true
        }
    }

    func useTOTPStep(userID: UUID, step: Int64) async throws -> Bool {
        try await writer.write { db in
            try db.useTOTPStep(userID: userID, step: step)
            return db.changesCount > 0
        }
    }

    func useRecoveryCode(userID: UUID, hash: String, now: Date, audit: AuditEvent) async throws -> Bool {
        try await writer.write { db in
            try db.useRecoveryCode(userID: userID, hash: hash, now: now)
            guard db.changesCount > 0 else { return false }
            try db.record(audit)
            return true
        }
    }

    func replaceRecoveryCodes(userID: UUID, hashes: [String], now: Date, audit: AuditEvent) async throws -> Bool {
        try await writer.write { db in
            guard try db.row("SELECT 1 FROM totp_factors WHERE user_id = \(userID.databaseText) AND confirmed_at IS NOT NULL") != nil
            else { return false }
            try db.replaceRecoveryCodes(userID: userID, hashes: hashes, now: now)
            try db.record(audit)
            return true
        }
    }

    func removeTOTP(userID: UUID, revokingSessions: Bool, now: Date, audit: AuditEvent) async throws -> Bool {
        try await writer.write { db in
            let wasOn = try db.row("SELECT 1 FROM totp_factors WHERE user_id = \(userID.databaseText) AND confirmed_at IS NOT NULL") != nil
            try db.run("UPDATE totp_factors SET sealed_secret = x'', confirmed_at = NULL WHERE user_id = \(userID.databaseText)")
            try db.run("DELETE FROM recovery_codes WHERE user_id = \(userID.databaseText)")
            if revokingSessions { try db.revokeSessions(userID: userID, now: now) }
            if wasOn || revokingSessions { try db.record(audit) }
            return wasOn
        }
    }

    func createChallenge(_ challenge: MFAChallenge) async throws {
        try await writer.write { db in
            try db.run(
                """
                INSERT INTO mfa_challenges (token_hash, user_id, amr, failures, created_at, expires_at)
                VALUES (\(challenge.tokenHash), \(challenge.userID.databaseText), \(challenge.amr.joined(separator: " ")), 0,
                        \(challenge.createdAt), \(challenge.expiresAt))
                """
            )
        }
    }

    func liveChallenge(tokenHash: Data, now: Date) async throws -> MFAChallenge? {
        try await writer.read { db in
            try db.row(
                """
                SELECT * FROM mfa_challenges
                WHERE token_hash = \(tokenHash) AND used_at IS NULL AND expires_at > \(now) AND failures < \(MFAChallenge.maxFailures)
                """
            ).map(MFAChallenge.init(row:))
        }
    }

    func reserveChallengeAttempt(tokenHash: Data, now: Date) async throws -> MFAChallenge? {
        try await writer.write { db in
            try db.row(
                """
                UPDATE mfa_challenges SET failures = failures + 1
                WHERE token_hash = \(tokenHash) AND used_at IS NULL AND expires_at > \(now) AND failures < \(MFAChallenge.maxFailures)
                RETURNING *
                """
            ).map(MFAChallenge.init(row:))
        }
    }

    func finishChallenge(tokenHash: Data, now: Date) async throws -> Bool {
        try await writer.write { db in
            try db.run(
                """
                UPDATE mfa_challenges SET used_at = \(now), failures = failures - 1
                WHERE token_hash = \(tokenHash) AND used_at IS NULL AND expires_at > \(now)
                """
            )
            return db.changesCount > 0
        }
    }

    func deleteEndedChallenges(before: Date, limit: Int) async throws -> Int {
        try await writer.write { db in try db.deleteEnded(.mfa, before: before, limit: limit) }
    }
}

extension SQLiteMFAStore {
    /// The two write transactions of each second step, group-committed (`Batcher.groupCommit`): a sign-in's session,
    /// refresh token and audit event touch the same index pages as its neighbours'.
    struct SecondSteps: Sendable {
        struct Admission: Sendable {
            var tokenHash: Data
            var throttle: LoginThrottle
            var now: Date
        }

        struct Completion: Sendable {
            var tokenHash: Data
            var userID: UUID
            var code: SpendableCode
            var session: NewSession
            var now: Date
        }

        let admissions: Batcher<Admission, SecondStepAdmission>
        let completions: Batcher<Completion, SecondStepCompletion>

        init(writer: any DatabaseWriter) {
            admissions = .groupCommit(writer: writer) { db, admission in try db.admit(admission) }
            completions = .groupCommit(writer: writer) { db, completion in
                do {
                    return try db.complete(completion)
                } catch is ChallengeEnded {
                    return .challengeGone
                }
            }
        }
    }

    func admitSecondStep(tokenHash: Data, throttle: LoginThrottle, now: Date) async throws -> SecondStepAdmission {
        try await secondSteps.admissions.submit(SecondSteps.Admission(tokenHash: tokenHash, throttle: throttle, now: now))
    }

    func completeSecondStep(
        tokenHash: Data,
        userID: UUID,
        code: SpendableCode,
        session: NewSession,
        now: Date
    ) async throws -> SecondStepCompletion {
        try await secondSteps.completions.submit(
            SecondSteps.Completion(tokenHash: tokenHash, userID: userID, code: code, session: session, now: now)
        )
    }
}

/// The statements of every second step, written out with placeholders (see `SessionSQL`).
private enum SecondStepSQL {
    static let liveChallenge = "SELECT * FROM mfa_challenges WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? AND failures < ?"
    static let chargeChallenge = "UPDATE mfa_challenges SET failures = failures + 1 WHERE token_hash = ?"
    static let endChallenge = """
        UPDATE mfa_challenges SET used_at = ?, failures = failures - 1 WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?
        """
    // A removed factor keeps its row, without a secret, for its last used step.
    static let totp = "SELECT * FROM totp_factors WHERE user_id = ? AND length(sealed_secret) > 0"
    static let remainingRecoveryCodes = "SELECT count(*) AS n FROM recovery_codes WHERE user_id = ? AND used_at IS NULL"
    static let useTOTPStep = """
        UPDATE totp_factors SET last_used_step = ?
        WHERE user_id = ? AND confirmed_at IS NOT NULL AND (last_used_step IS NULL OR last_used_step < ?)
        """
}

/// Thrown to roll back a completion whose challenge ended after its code was spent.
private struct ChallengeEnded: Error {}

extension GRDB.Database {
    fileprivate func admit(_ admission: SQLiteMFAStore.SecondSteps.Admission) throws -> SecondStepAdmission {
        let (tokenHash, now) = (admission.tokenHash, admission.now)
        guard
            let challenge = try row(sql: SecondStepSQL.liveChallenge, [tokenHash, now, MFAChallenge.maxFailures]).map(MFAChallenge.init(row:)),
            let user = try user(id: challenge.userID)
        else { return .challengeGone }
        let factors = try factors(userID: user.id)
        let key = RateLimiter.secondFactorKey(user.id)
        if case .throttled(let retryAfter) = try reserve(admission.throttle, key: key, now: now.timeIntervalSince1970) {
            return .throttled(retryAfter: retryAfter)
        }
        try run(sql: SecondStepSQL.chargeChallenge, [tokenHash])
        var reserved = challenge
        reserved.failures += 1
        return .admitted(reserved, user, factors)
    }

    /// Throws `ChallengeEnded` when the challenge ended after the code was spent, for the savepoint to roll it all back.
    fileprivate func complete(_ completion: SQLiteMFAStore.SecondSteps.Completion) throws -> SecondStepCompletion {
        let (userID, now) = (completion.userID, completion.now)
        switch completion.code {
        case .totpStep(let step): try useTOTPStep(userID: userID, step: step)
        case .recoveryCode(let hash, _): try useRecoveryCode(userID: userID, hash: hash, now: now)
        }
        guard changesCount > 0 else { return .codeRejected }
        if case .recoveryCode(_, let audit) = completion.code { try record(audit) }
        try run(sql: SecondStepSQL.endChallenge, [now, completion.tokenHash, now])
        guard changesCount > 0 else { throw ChallengeEnded() }
        try clearLoginFailures(accountKey: RateLimiter.secondFactorKey(userID))
        let session = completion.session
        try insert(session.session, refreshTokenHash: session.refreshTokenHash, maxLiveSessions: session.maxLiveSessions, audit: session.audit)
        return .completed
    }
}

extension GRDB.Database {
    fileprivate func factors(userID: UUID) throws -> SecondFactors {
        let totp = try row(sql: SecondStepSQL.totp, [userID.databaseText]).map(TOTPRecord.init(row:))
        let remaining = try row(sql: SecondStepSQL.remainingRecoveryCodes, [userID.databaseText])?["n"] as Int? ?? 0
        return SecondFactors(totp: totp, recoveryCodesRemaining: remaining)
    }

    /// Sets `changesCount` to 1 when the step was taken.
    fileprivate func useTOTPStep(userID: UUID, step: Int64) throws {
        try run(sql: SecondStepSQL.useTOTPStep, [step, userID.databaseText, step])
    }

    /// Sets `changesCount` to 1 when the code was spent.
    fileprivate func useRecoveryCode(userID: UUID, hash: String, now: Date) throws {
        try run(
            """
            UPDATE recovery_codes SET used_at = \(now)
            WHERE user_id = \(userID.databaseText) AND code_hash = \(hash) AND used_at IS NULL
              AND EXISTS (SELECT 1 FROM totp_factors WHERE user_id = \(userID.databaseText) AND confirmed_at IS NOT NULL)
            """
        )
    }

    fileprivate func replaceRecoveryCodes(userID: UUID, hashes: [String], now: Date) throws {
        try run("DELETE FROM recovery_codes WHERE user_id = \(userID.databaseText)")
        for hash in hashes {
            try run("INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES (\(userID.databaseText), \(hash), \(now))")
        }
    }
}

extension TOTPRecord {
    fileprivate init(row: Row) {
        self.init(
            sealedSecret: row["sealed_secret"],
            createdAt: row["created_at"],
            confirmedAt: row["confirmed_at"],
            lastUsedStep: row["last_used_step"]
        )
    }
}

extension MFAChallenge {
    fileprivate init(row: Row) {
        self.init(
            tokenHash: row["token_hash"],
            userID: row.uuid("user_id"),
            amr: (row["amr"] as String).split(separator: " ").map(String.init),
            failures: row["failures"],
            createdAt: row["created_at"],
            expiresAt: row["expires_at"]
        )
    }
}
