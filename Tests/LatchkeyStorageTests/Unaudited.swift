import Foundation
import LatchkeyCore

// The store calls of tests about something other than the audit log, in the form they had before it: each records a
// stand-in event. `AuditStoreTests` checks what is recorded with which change.

extension AuditEvent.Kind {
    /// Not a type the server writes: lists of the real ones leave it out.
    static let standIn = AuditEvent.Kind(rawValue: "test.stand_in")
}

extension AuditEvent {
    static func standIn(_ now: Date = Date()) -> AuditEvent {
        AuditEvent(.standIn, by: .storeTests, at: now)
    }
}

extension UserStore {
    func insertUser(_ user: User, verification: (EmailToken, SealedMail)?) async throws {
        try await insertUser(user, verification: verification, audit: .standIn())
    }

    func updateName(userID: UUID, name: String, now: Date) async throws -> User? {
        try await updateName(userID: userID, name: name, now: now, audit: .standIn(now))
    }

    func changePassword(userID: UUID, passwordHash: String, keepSessionID: UUID?, notice: SealedMail, now: Date) async throws {
        try await changePassword(
            userID: userID,
            passwordHash: passwordHash,
            keepSessionID: keepSessionID,
            notice: notice,
            now: now,
            audit: .standIn(now)
        )
    }

    func softDelete(userID: UUID, now: Date) async throws {
        try await softDelete(userID: userID, now: now, audit: .standIn(now))
    }

    func update(userID: UUID, _ changes: UserChanges, now: Date) async throws -> UserSummary? {
        try await update(userID: userID, changes, now: now, audit: .standIn(now))
    }
}

extension SessionStore {
    func createSession(_ session: Session, refreshTokenHash: Data, maxLiveSessions: Int, clearingLoginFailures accountKey: String?) async throws {
        try await createSession(
            session,
            refreshTokenHash: refreshTokenHash,
            maxLiveSessions: maxLiveSessions,
            clearingLoginFailures: accountKey,
            audit: .standIn(session.createdAt)
        )
    }

    func revokeSession(id: UUID, userID: UUID, now: Date) async throws -> Bool {
        try await revokeSession(id: id, userID: userID, now: now, audit: .standIn(now))
    }

    func revokeSession(refreshTokenHash: Data, now: Date) async throws {
        try await revokeSession(refreshTokenHash: refreshTokenHash, now: now, audit: .standIn(now))
    }

    func revokeAllSessions(userID: UUID, now: Date) async throws {
        try await revokeAllSessions(userID: userID, now: now, audit: .standIn(now))
    }
}

extension EmailTokenStore {
    func issue(_ token: EmailToken, mail: SealedMail) async throws {
        try await issue(token, mail: mail, audit: nil)
    }

    func verifyEmail(tokenHash: Data, now: Date) async throws -> User? {
        try await verifyEmail(tokenHash: tokenHash, now: now, audit: .standIn(now))
    }

    func resetPassword(tokenHash: Data, passwordHash: String, notice: SealedMail, now: Date) async throws -> Bool {
        try await resetPassword(tokenHash: tokenHash, passwordHash: passwordHash, notice: notice, now: now, audit: .standIn(now))
    }
}

extension SigningKeyStore {
    func addSigningKey(_ key: SigningKey) async throws {
        try await addSigningKey(key, audit: .standIn())
    }

    func retireSigningKey(kid: String, now: Date) async throws -> Bool {
        try await retireSigningKey(kid: kid, now: now, audit: .standIn(now)) { _ in }
    }
}
