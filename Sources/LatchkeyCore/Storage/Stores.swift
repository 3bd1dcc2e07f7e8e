import Foundation

/// Accounts. Implementations keep the email unique case-insensitively (emails are stored lower-cased).
public protocol UserStore: Sendable {
    /// Throws `AuthError.emailAlreadyRegistered` when the email is taken, by a deleted account too.
    func insertUser(_ user: User) async throws
    func user(id: UUID) async throws -> User?
    func user(email: String) async throws -> User?
    func updateName(userID: UUID, name: String, now: Date) async throws -> User?
    /// Sets the hash and revokes every session of the user except `keepSessionID`, in one transaction.
    func changePassword(userID: UUID, passwordHash: String, keepSessionID: UUID?, now: Date) async throws
    /// Marks the account deleted and revokes all its sessions, in one transaction.
    func softDelete(userID: UUID, now: Date) async throws
}

/// Sessions and their refresh-token chains. Only hashes of refresh tokens are stored.
public protocol SessionStore: Sendable {
    func createSession(_ session: Session, refreshTokenHash: Data) async throws
    /// Rotates a refresh token in one transaction; the database decides concurrent races.
    func rotateRefreshToken(_ rotation: RefreshRotation) async throws -> RefreshRotation.Outcome
    func session(id: UUID) async throws -> Session?
    /// The user's sessions that are neither revoked nor expired, newest first.
    func liveSessions(userID: UUID, now: Date) async throws -> [Session]
    /// Returns false when no such session of that user exists.
    func revokeSession(id: UUID, userID: UUID, now: Date) async throws -> Bool
    /// Revokes the session the refresh token belongs to, whatever its state; unknown tokens are ignored.
    func revokeSession(refreshTokenHash: Data, now: Date) async throws
    func revokeAllSessions(userID: UUID, now: Date) async throws
}

/// Asymmetric signing keys, shared by every instance on the database.
public protocol SigningKeyStore: Sendable {
    func signingKeys(algorithm: SigningAlgorithm) async throws -> [SigningKey]
    func insertSigningKey(_ key: SigningKey) async throws
}

/// Everything the services need from a database backend.
public protocol Database: Sendable {
    var users: any UserStore { get }
    var sessions: any SessionStore { get }
    var signingKeys: any SigningKeyStore { get }
    /// Throws when the database does not answer.
    func ping() async throws
}
