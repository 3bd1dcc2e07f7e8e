import Foundation
import Testing

@testable import LatchkeyCore

/// `RefreshRotation.decide` as a table: the one rule both backends apply (PostgreSQL restates its `.rotate` case in SQL,
/// which the store-conformance suite pins).
@Suite struct RefreshRotationDecisionTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var userDeleted = false
        var sessionRevoked = false
        var sessionExpired = false
        /// Seconds before `now` the presented token was rotated; nil while it is live.
        var rotatedAgo: Double?
        var successorIsLive = true
        var grace = 10
        var expected: RefreshRotation.Decision
        var testDescription: String { name }
    }

    static let sealed = Data([1, 2, 3])

    static let cases: [Case] = [
        Case(name: "live token", expected: .rotate),
        Case(name: "rotated a moment ago", rotatedAgo: 1, expected: .replay(sealedSuccessor: sealed)),
        Case(name: "rotated exactly at the end of the grace window", rotatedAgo: 10, expected: .replay(sealedSuccessor: sealed)),
        Case(name: "rotated after the grace window", rotatedAgo: 11, expected: .reuse),
        Case(name: "two rotations old, within the window", rotatedAgo: 1, successorIsLive: false, expected: .reuse),
        Case(name: "grace 0", rotatedAgo: 0, grace: 0, expected: .reuse),
        Case(name: "revoked session", sessionRevoked: true, expected: .invalid),
        Case(name: "revoked session, rotated token", sessionRevoked: true, rotatedAgo: 1, expected: .invalid),
        Case(name: "expired session", sessionExpired: true, expected: .invalid),
        Case(name: "deleted user", userDeleted: true, expected: .accountDisabled),
        Case(name: "deleted user, revoked session", userDeleted: true, sessionRevoked: true, expected: .accountDisabled),
    ]

    @Test(arguments: cases)
    func decides(_ test: Case) {
        let now = Self.now
        let user = User(
            id: UUID(),
            email: "a@example.com",
            passwordHash: "",
            name: "A",
            role: .user,
            emailVerified: true,
            createdAt: now,
            updatedAt: now,
            deletedAt: test.userDeleted ? now : nil
        )
        let session = Session(
            id: UUID(),
            userID: user.id,
            createdAt: now.addingTimeInterval(-100),
            lastUsedAt: now,
            expiresAt: now.addingTimeInterval(test.sessionExpired ? -1 : 100),
            userAgent: nil,
            ip: nil,
            revokedAt: test.sessionRevoked ? now : nil,
            amr: ["pwd"],
            authTime: now.addingTimeInterval(-100)
        )
        let rotation = RefreshRotation(
            presentedHash: Data(),
            successorHash: Data(),
            sealedSuccessor: Data(),
            sessionExpiresAt: now.addingTimeInterval(100),
            now: now,
            grace: test.grace,
            client: ClientInfo(userAgent: nil, ip: nil)
        )
        let state = RefreshRotation.State(
            session: session,
            user: user,
            rotatedAt: test.rotatedAgo.map { now.addingTimeInterval(-$0) },
            sealedSuccessor: test.rotatedAgo == nil ? nil : Self.sealed,
            successorIsLive: test.successorIsLive
        )
        #expect(rotation.decide(state) == test.expected)
    }

    /// The sealed successor opens only with the token that was presented.
    @Test func sealedSuccessorOpensOnlyWithItsPredecessor() throws {
        let presented = RandomToken.make()
        let sealed = try RefreshRotation.seal("successor", presented: presented)
        #expect(try RefreshRotation.open(sealed, presented: presented) == "successor")
        #expect(throws: (any Error).self) { try RefreshRotation.open(sealed, presented: RandomToken.make()) }
    }
}
