import Foundation

// Every change that the audit log records takes its `AuditEvent` and writes it in the change's own transaction,
// only when something changed.

/// Accounts. Implementations keep the email unique case-insensitively (emails are stored lower-cased).
public protocol UserStore: Sendable {
    /// Inserts the user and, in the same transaction, its verification token and mail.
    /// Throws `AuthError.emailAlreadyRegistered` when the email is taken, by a deleted account too.
    func insertUser(_ user: User, verification: (EmailToken, SealedMail)?, audit: AuditEvent) async throws
    func user(email: String) async throws -> User?
    func user(id: UUID) async throws -> User?
    func updateName(userID: UUID, name: String, now: Date, audit: AuditEvent) async throws -> User?
    /// In one transaction: sets the hash, revokes every session of the user except `keepSessionID`, voids
    /// pending reset tokens and queues the notice mail.
    func changePassword(userID: UUID, passwordHash: String, keepSessionID: UUID?, notice: SealedMail, now: Date, audit: AuditEvent) async throws
    /// Replaces `old` by a hash of the same password (a rehash at another cost), only while `old` is still stored: a
    /// password change that came in between wins. Sessions stay.
    func rehashPassword(userID: UUID, from old: String, to new: String) async throws
    /// Marks the account deleted and revokes all its sessions, in one transaction; an account deleted already is left as it
    /// is.
    func softDelete(userID: UUID, now: Date, audit: AuditEvent) async throws
    /// Up to `limit` accounts, deleted ones too, newest first (by creation, then id), starting after the account
    /// `after` when given; `emailContaining` (lower-case) filters by a part of the email.
    func users(emailContaining: String?, limit: Int, after: UUID?, now: Date) async throws -> [UserSummary]
    func summary(userID: UUID, now: Date) async throws -> UserSummary?
    /// Applies an administrator's changes in one transaction; disabling also revokes every session of the account.
    /// Nil for an unknown id.
    func update(userID: UUID, _ changes: UserChanges, now: Date, audit: AuditEvent) async throws -> UserSummary?
}

/// Sessions and their refresh-token chains. Only hashes of refresh tokens are stored.
public protocol SessionStore: Sendable {
    /// Stores a new session and its first refresh token; first revokes the user's least recently used live
    /// sessions so that, with the new one, at most `maxLiveSessions` are live.
    /// In the same round trip, deletes the login throttle state `clearingLoginFailures` names (a successful login).
    /// `audit` is nil for the session a registration opens (`user.registered` records it). Refresh tokens are stored by
    /// `RefreshToken.key`, here and below.
    func createSession(
        _ session: Session,
        refreshTokenHash: Data,
        maxLiveSessions: Int,
        clearingLoginFailures accountKey: String?,
        audit: AuditEvent?
    ) async throws
    /// Rotates a refresh token in one transaction; the database decides concurrent races. Records
    /// `rotation.auditEvent(for:)`.
    func rotateRefreshToken(_ rotation: RefreshRotation) async throws -> RefreshRotation.Outcome
    /// Adds a factor to a live session of the user, in one transaction: sets its `amr` (what `amr` makes of the session's
    /// own, not of a token's, which another step-up may have outdated), its `auth_time` to `now`, and
    /// replaces its live refresh token by `successorHash` as a rotation does (the replaced token's successor sealed by
    /// `sealSuccessor`, given the replaced token's key), so that the replaced token follows the grace and reuse rules.
    /// Nil when the session is not live.
    func stepUp(
        sessionID: UUID,
        userID: UUID,
        amr: @escaping @Sendable (_ current: [String]) -> [String],
        successorHash: Data,
        sealSuccessor: @escaping @Sendable (_ replacedKey: Data) throws -> Data,
        sessionExpiresAt: Date,
        now: Date
    ) async throws -> Session?
    /// The active user of a session that is neither revoked nor expired, in one query (every protected request asks).
    func activeUser(sessionID: UUID, userID: UUID, now: Date) async throws -> User?
    /// Up to `limit` of the user's sessions that are neither revoked nor expired, newest first (by creation, then id),
    /// starting after the session `after` when given.
    func liveSessions(userID: UUID, now: Date, limit: Int, after: UUID?) async throws -> [Session]
    /// Returns false when no such session of that user exists.
    func revokeSession(id: UUID, userID: UUID, now: Date, audit: AuditEvent) async throws -> Bool
    /// Revokes the session the refresh token belongs to; unknown tokens and ended sessions are ignored. The event is
    /// recorded `about` the session found.
    func revokeSession(refreshTokenHash: Data, now: Date, audit: AuditEvent) async throws
    func revokeAllSessions(userID: UUID, now: Date, audit: AuditEvent) async throws
    /// Deletes up to `limit` sessions that expired or were revoked before `before`, with their refresh tokens; returns how
    /// many sessions went. Concurrent callers (other instances) delete disjoint batches.
    func deleteEnded(before: Date, limit: Int) async throws -> Int
}

/// Single-use tokens sent by mail, and the outbox that carries them.
public protocol EmailTokenStore: Sendable {
    /// Stores the token and queues its mail in one transaction. A reset token voids the user's older ones.
    func issue(_ token: EmailToken, mail: SealedMail, audit: AuditEvent?) async throws
    /// The active user a usable (unused, unexpired) token of `purpose` belongs to.
    func owner(of tokenHash: Data, purpose: EmailToken.Purpose, now: Date) async throws -> User?
    /// Uses a verification token and marks the email verified; nil when the token is not usable. The event is
    /// recorded `about` the token's owner.
    func verifyEmail(tokenHash: Data, now: Date, audit: AuditEvent) async throws -> User?
    /// In one transaction: uses the reset token, voids the user's other reset tokens, sets the password,
    /// revokes every session and queues the notice. False when the token is not usable. The event is recorded
    /// `about` the token's owner.
    func resetPassword(tokenHash: Data, passwordHash: String, notice: SealedMail, now: Date, audit: AuditEvent) async throws -> Bool
    /// Deletes up to `limit` used or expired tokens; returns how many.
    func deleteSpent(now: Date, limit: Int) async throws -> Int
}

/// Mails waiting for delivery. Claims are leases, so several instances never send one mail at the same time.
public protocol OutboxStore: Sendable {
    /// Claims up to `limit` due mails until `leaseUntil`.
    func claimDueMails(now: Date, leaseUntil: Date, limit: Int) async throws -> [QueuedMail]
    /// Marks the mail delivered and drops its body.
    func markSent(_ id: UUID, now: Date) async throws
    func markRetry(_ id: UUID, nextAttemptAt: Date, error: String) async throws
    func markFailed(_ id: UUID, now: Date, error: String) async throws
    /// Deletes up to `limit` delivered and failed mails older than `before`; returns how many.
    func purge(before: Date, limit: Int) async throws -> Int
    /// Mails neither delivered nor given up.
    func pendingCount() async throws -> Int
}

/// Asymmetric signing keys, shared by every instance on the database.
public protocol SigningKeyStore: Sendable {
    /// The keys of `algorithm`. When there is none, stores the key `makeKey()` gives first, with its audit event,
    /// atomically: instances starting together end up with the same single key.
    func signingKeys(
        algorithm: SigningAlgorithm,
        creatingIfNone makeKey: @escaping @Sendable () throws -> (SigningKey, AuditEvent)
    ) async throws -> [SigningKey]
    /// Stores new material for a key: a key kept in the clear by an earlier version, sealed.
    func replacePrivateKey(kid: String, with privateKey: String) async throws
    /// Every key, retired ones too, oldest first.
    func allSigningKeys() async throws -> [SigningKey]
    func addSigningKey(_ key: SigningKey, audit: AuditEvent) async throws
    /// Marks the key retired unless `check` throws on the live keys, which it gets in the same transaction as the change
    /// (on PostgreSQL under the lock that key creation takes): two retirements at once see each other. False when there
    /// is no such live key.
    func retireSigningKey(
        kid: String,
        now: Date,
        audit: AuditEvent,
        check: @escaping @Sendable (_ liveKeys: [SigningKey]) throws -> Void
    ) async throws -> Bool
}

/// One bucket of a per-IP or per-recipient budget.
public struct RateBucket: Sendable {
    public var key: String
    public var rate: Rate

    public init(key: String, rate: Rate) {
        self.key = key
        self.rate = rate
    }
}

public enum RateDecision: Sendable, Equatable {
    case allowed
    case limited(retryAfter: Int)
}

/// A login attempt to let through: the client IP's bucket first (when limited), then the account's throttle.
public struct LoginAttempt: Sendable {
    public var accountKey: String
    public var throttle: LoginThrottle
    public var ipBucket: RateBucket?

    public init(accountKey: String, throttle: LoginThrottle, ipBucket: RateBucket?) {
        self.accountKey = accountKey
        self.throttle = throttle
        self.ipBucket = ipBucket
    }
}

public enum LoginAttemptDecision: Sendable, Equatable {
    /// The failure is reserved: `state` is what the account's throttle now holds.
    case reserved(LoginThrottle.State)
    /// The IP's budget is spent; nothing changed.
    case ipLimited(retryAfter: Int)
    /// The account is waiting; the IP's request was counted, the account's state did not change.
    case throttled(retryAfter: Int)
}

/// The abuse limits' counters. Every check is atomic in the database, so concurrent requests, on any number of
/// instances, cannot get past a budget.
public protocol RateLimitStore: Sendable {
    /// Takes one request from the bucket (`Rate.take`); a limited request leaves it as it was.
    func take(_ bucket: RateBucket, now: Date) async throws -> RateDecision
    /// `LoginThrottle.reserve` on the account, when the IP bucket allows the attempt; in one round trip.
    func reserveLoginAttempt(_ attempt: LoginAttempt, now: Date) async throws -> LoginAttemptDecision
    /// Forgets the account's failures and ends its wait.
    func clearLoginFailures(accountKey: String) async throws
    /// Deletes up to `limit` spent rows: full buckets, and throttles whose last failure is before `forgetBefore`
    /// and whose wait is over. Returns how many.
    func deleteSpent(now: Date, forgetBefore: Date, limit: Int) async throws -> Int
}

/// Second factors: TOTP secrets (sealed), recovery codes (keyed hashes) and the challenges of sign-ins waiting for
/// their second step (hashed tokens). Every use of a code is decided by the database, so two requests with one code
/// give one success, on any number of instances.
public protocol MFAStore: Sendable {
    func factors(userID: UUID) async throws -> SecondFactors
    /// Stores a pending TOTP secret, replacing a pending one. The account's last used step stays, through removals too:
    /// no step is ever taken twice for an account. False when TOTP is on.
    func startTOTPEnrolment(userID: UUID, sealedSecret: Data, now: Date) async throws -> Bool
    /// In one transaction: turns the pending TOTP on with `step` as its last used step (unless a step at or after it was
    /// used, or the pending secret is no longer `sealedSecret`, the one the code was checked against), replaces the
    /// recovery codes by `recoveryCodeHashes` and revokes every session of the account but `keepSessionID`. False when
    /// that pending enrolment is gone or the step was used.
    func confirmTOTP(
        userID: UUID,
        sealedSecret: Data,
        step: Int64,
        recoveryCodeHashes: [String],
        keepSessionID: UUID,
        now: Date,
        audit: AuditEvent
    ) async throws -> Bool
    /// Records `step` as the last used step of the account's TOTP, only when TOTP is on and `step` is after the last
    /// used one. False otherwise: the code was used already, or the factor is gone.
    func useTOTPStep(userID: UUID, step: Int64) async throws -> Bool
    /// Spends the unused recovery code with this hash, while TOTP is on; false when there is no such code.
    func useRecoveryCode(userID: UUID, hash: String, now: Date, audit: AuditEvent) async throws -> Bool
    /// Replaces every recovery code of the account, while TOTP is on; false (and nothing changed) when it is not.
    func replaceRecoveryCodes(userID: UUID, hashes: [String], now: Date, audit: AuditEvent) async throws -> Bool
    /// Removes TOTP (on or pending: the secret goes, the last used step stays) and the recovery codes in one
    /// transaction, and with `revokingSessions` every session of the account too. The event is recorded when TOTP was on
    /// or sessions were revoked; returns whether TOTP was on.
    func removeTOTP(userID: UUID, revokingSessions: Bool, now: Date, audit: AuditEvent) async throws -> Bool
    func createChallenge(_ challenge: MFAChallenge) async throws
    /// The challenge, while it is unused, unexpired and has wrong codes to spare.
    func liveChallenge(tokenHash: Data, now: Date) async throws -> MFAChallenge?
    /// Reserves a wrong code on the live challenge before the code is checked, so that concurrent guesses cannot get
    /// past five; nil when it is no longer live.
    func reserveChallengeAttempt(tokenHash: Data, now: Date) async throws -> MFAChallenge?
    /// Ends the challenge with a success, giving back the reserved wrong code. False when it ended meanwhile.
    func finishChallenge(tokenHash: Data, now: Date) async throws -> Bool
    /// Deletes up to `limit` challenges that expired or were used before `before`; returns how many.
    func deleteEndedChallenges(before: Date, limit: Int) async throws -> Int
    /// The second step of a sign-in, before its code is checked: the live challenge, its account and the account's
    /// factors, then a wrong code reserved on the account's code budget (`throttle`, under
    /// `RateLimiter.secondFactorKey`) and on the challenge. SQLite does it in one write transaction.
    func admitSecondStep(tokenHash: Data, throttle: LoginThrottle, now: Date) async throws -> SecondStepAdmission
    /// The second step once its code was found right: spends the code (recording a recovery code's event), ends the challenge
    /// (giving back its reserved wrong code), forgets the account's wrong codes and opens `session`. SQLite does it in one
    /// write transaction, which changes nothing unless it all succeeds; PostgreSQL in statements that each decide their
    /// own race (a challenge that ends between them leaves the code spent).
    func completeSecondStep(
        tokenHash: Data,
        userID: UUID,
        code: SpendableCode,
        session: NewSession,
        now: Date
    ) async throws -> SecondStepCompletion
}

/// Passkeys, their accounts' user handles and the WebAuthn challenges (stored hashed). A challenge is spent by the
/// database, so that of two responses naming it one at most goes on.
public protocol PasskeyStore: Sendable {
    /// The account's user handle: the one stored, or `proposed` stored now when it has none.
    func userHandle(userID: UUID, proposed: Data) async throws -> Data
    func createChallenge(_ challenge: PasskeyChallenge) async throws
    /// Marks the challenge used and gives it, when it was unused and unexpired; nil otherwise (spent, expired, unknown).
    func spendChallenge(hash: Data, now: Date) async throws -> PasskeyChallenge?
    /// Deletes up to `limit` challenges that expired or were used before `before`; returns how many.
    func deleteEndedChallenges(before: Date, limit: Int) async throws -> Int
    /// The account's passkeys, oldest first.
    func passkeys(userID: UUID) async throws -> [Passkey]
    /// The passkey with this credential id, and its account's user handle.
    func passkey(credentialID: Data) async throws -> (passkey: Passkey, userHandle: Data)?
    /// Stores a new passkey and records `audit` with it; false (and nothing stored) when its credential id is
    /// registered already, to this account or another.
    func add(_ passkey: Passkey, audit: AuditEvent) async throws -> Bool
    /// After a verified sign-in: stores the counter and `backedUp` and sets `lastUsedAt`, only when the stored counter
    /// is still `previousSignCount` (of two sign-ins with one counter value, one goes on). False when it changed.
    func recordUse(id: UUID, previousSignCount: Int64, signCount: Int64, backedUp: Bool, now: Date) async throws -> Bool
    /// Renames the account's passkey; nil when it has none of this id.
    func rename(id: UUID, userID: UUID, name: String) async throws -> Passkey?
    /// Removes the account's passkey, unless it is the account's last way in (no password and no other passkey),
    /// recording `audit` with it.
    func remove(id: UUID, userID: UUID, audit: AuditEvent) async throws -> PasskeyRemoval
}

/// The audit log: append-only but for retention.
public protocol AuditStore: Sendable {
    /// Records events that go with no other change (a failed login), in one transaction.
    func record(_ events: [AuditEvent]) async throws
    /// Up to `limit` events matching `filter`, newest first (in the order they were written), starting after the event
    /// `after`; nil when there is no such event.
    func events(_ filter: AuditFilter, limit: Int, after: UUID?) async throws -> [AuditEvent]?
    /// Deletes up to `limit` events from before `before`; returns how many. Concurrent callers delete disjoint batches.
    func deleteOlder(than before: Date, limit: Int) async throws -> Int
}

/// Everything the services need from a database backend: SQLite or PostgreSQL.
public protocol StorageBackend: Sendable {
    var users: any UserStore { get }
    var sessions: any SessionStore { get }
    var signingKeys: any SigningKeyStore { get }
    var emailTokens: any EmailTokenStore { get }
    var outbox: any OutboxStore { get }
    var rateLimits: any RateLimitStore { get }
    var audit: any AuditStore { get }
    var mfa: any MFAStore { get }
    var passkeys: any PasskeyStore { get }
    /// Throws when the database does not answer.
    func ping() async throws
    /// Brings the query planner's statistics up to date where they have drifted far; cleanup calls it after each run.
    func refreshStatistics() async throws
}
