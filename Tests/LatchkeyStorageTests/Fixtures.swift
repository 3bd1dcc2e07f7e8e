import Foundation
import LatchkeyCore
import Testing

// Domain values built with Core's public initialisers, and the few steps most tests begin with.

extension Date {
    /// Now, to the second, for dates compared after a trip through a store. A whole second is exact in binary, so both
    /// backends give it back bit for bit. Most whole milliseconds are not: SQLite then stores the millisecond before, and
    /// reads any millisecond back within a fraction of a microsecond only (see `storedDatesKeepTheirMillisecond`).
    static func wholeSecond() -> Date {
        Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded())
    }

    /// The date's millisecond since 1970, what SQLite keeps of it.
    var millisecond: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    func plus(_ seconds: TimeInterval) -> Date { addingTimeInterval(seconds) }
}

/// Random bytes standing in for what Core seals (mail bodies, refresh successors): the stores keep them opaque.
func randomBytes(_ count: Int = 48) -> Data {
    Data((0..<count).map { _ in UInt8.random(in: .min ... .max) })
}

/// The hash of a fresh refresh or email token, the only form a store ever sees.
func freshTokenHash() -> Data {
    RandomToken.hash(RandomToken.make())
}

func uniqueEmail() -> String {
    "user-\(UUID().uuidString.lowercased())@example.com"
}

extension User {
    static func make(email: String = uniqueEmail(), now: Date) -> User {
        User(
            id: UUID(),
            email: email,
            passwordHash: "$2b$04$\(RandomToken.make())",
            name: "Ada Lovelace",
            role: .user,
            emailVerified: false,
            createdAt: now,
            updatedAt: now,
            deletedAt: nil
        )
    }
}

extension Session {
    static func make(userID: UUID, createdAt: Date, lifetime: TimeInterval = 3600) -> Session {
        Session(
            id: UUID(),
            userID: userID,
            createdAt: createdAt,
            lastUsedAt: createdAt,
            expiresAt: createdAt.plus(lifetime),
            userAgent: "StoreTests/1.0",
            ip: "192.0.2.7",
            revokedAt: nil,
            amr: ["pwd"],
            authTime: createdAt
        )
    }
}

extension SealedMail {
    static func make(id: UUID = UUID(), to: String = uniqueEmail(), subject: String = "Hello", createdAt: Date) -> SealedMail {
        SealedMail(
            id: id,
            to: to,
            subject: subject,
            messageID: "<\(UUID().uuidString)@latchkey.test>",
            createdAt: createdAt,
            body: .sealed(randomBytes())
        )
    }
}

extension EmailToken {
    static func make(userID: UUID, purpose: Purpose, createdAt: Date, lifetime: TimeInterval = 3600) -> EmailToken {
        EmailToken(hash: freshTokenHash(), userID: userID, purpose: purpose, createdAt: createdAt, expiresAt: createdAt.plus(lifetime))
    }
}

extension ClientInfo {
    static let storeTests = ClientInfo(userAgent: "StoreTests/1.0", ip: "192.0.2.7", requestID: "store-tests")
}

extension RefreshRotation {
    /// A rotation of `presented` to a fresh successor, as `SessionService.refresh` prepares one.
    static func of(_ presented: Data, now: Date, grace: Int = 10, lifetime: TimeInterval = 3600) -> RefreshRotation {
        RefreshRotation(
            presentedHash: presented,
            successorHash: freshTokenHash(),
            sealedSuccessor: randomBytes(),
            sessionExpiresAt: now.plus(lifetime),
            now: now,
            grace: grace,
            client: .storeTests
        )
    }
}

extension RefreshRotation.Outcome {
    /// The outcome's case without its payload, so that expectations can compare it.
    enum Kind: Equatable { case rotated, replayed, reused, invalid, accountDisabled }

    var kind: Kind {
        switch self {
        case .rotated: .rotated
        case .replayed: .replayed
        case .reused: .reused
        case .invalid: .invalid
        case .accountDisabled: .accountDisabled
        }
    }

    /// The session and user of `.rotated` or `.replayed`.
    var session: Session? {
        switch self {
        case .rotated(let session, _), .replayed(let session, _, _): session
        default: nil
        }
    }

    var user: User? {
        switch self {
        case .rotated(_, let user), .replayed(_, let user, _): user
        default: nil
        }
    }

    var replayedSuccessor: Data? {
        if case .replayed(_, _, let sealed) = self { sealed } else { nil }
    }
}

extension TestStore {
    /// A stored user.
    @discardableResult
    func insertUser(email: String = uniqueEmail(), now: Date) async throws -> User {
        let user = User.make(email: email, now: now)
        try await users.insertUser(user, verification: nil)
        return user
    }

    /// The account of `user` as stored now, read back by its email: `UserStore`'s only lookup.
    func stored(_ user: User) async throws -> User? {
        try await users.user(email: user.email)
    }

    /// A stored session of `user` and the hash of its first refresh token.
    func startSession(
        for user: User,
        at createdAt: Date,
        lifetime: TimeInterval = 3600,
        maxLiveSessions: Int = 100
    ) async throws -> (session: Session, refreshToken: Data) {
        let session = Session.make(userID: user.id, createdAt: createdAt, lifetime: lifetime)
        let refreshToken = freshTokenHash()
        try await sessions.createSession(session, refreshTokenHash: refreshToken, maxLiveSessions: maxLiveSessions, clearingLoginFailures: nil)
        return (session, refreshToken)
    }

    /// Ids of the user's live sessions at `now`, newest first.
    func liveSessionIDs(of user: User, at now: Date) async throws -> [UUID] {
        try await sessions.liveSessions(userID: user.id, now: now, limit: 1000, after: nil).map(\.id)
    }

    /// Every mail due at `now`, claimed for an hour: longer than any test looks ahead, so claimed mails stay out of the way.
    func claimAll(at now: Date) async throws -> [QueuedMail] {
        try await outbox.claimDueMails(now: now, leaseUntil: now.plus(3600), limit: 1000)
    }

    /// Queues a mail due at `createdAt`, the way every mail enters the outbox: with the token it carries.
    func queueMail(at createdAt: Date) async throws -> SealedMail {
        let user = try await insertUser(now: createdAt)
        let mail = SealedMail.make(to: user.email, createdAt: createdAt)
        try await emailTokens.issue(.make(userID: user.id, purpose: .verifyEmail, createdAt: createdAt), mail: mail)
        return mail
    }

    /// The outbox row of a mail, as text.
    func outboxRow(_ id: UUID) async throws -> [String: String] {
        try #require(try await rows("SELECT * FROM mail_outbox WHERE id = '\(id.uuidString.lowercased())'").first)
    }
}
