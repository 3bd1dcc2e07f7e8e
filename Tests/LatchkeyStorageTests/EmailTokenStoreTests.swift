import Foundation
import LatchkeyCore
import Testing

// MARK: - EmailTokenStore

extension StoreConformanceTests {
    @Test(arguments: Backend.available)
    func issuedTokenNamesItsOwnerForItsPurposeUntilItExpires(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let token = EmailToken.make(userID: user.id, purpose: .verifyEmail, createdAt: now, lifetime: 60)
            let mail = SealedMail.make(to: user.email, createdAt: now)
            try await store.emailTokens.issue(token, mail: mail)

            #expect(try await store.claimAll(at: now).map(\.mail) == [mail])
            #expect(try await store.emailTokens.owner(of: token.hash, purpose: .verifyEmail, now: now) == user)
            #expect(try await store.emailTokens.owner(of: token.hash, purpose: .verifyEmail, now: now.plus(59)) == user)  // asking does not use it
            #expect(try await store.emailTokens.owner(of: token.hash, purpose: .verifyEmail, now: now.plus(60)) == nil)
            #expect(try await store.emailTokens.owner(of: token.hash, purpose: .resetPassword, now: now) == nil)
            #expect(try await store.emailTokens.owner(of: freshTokenHash(), purpose: .verifyEmail, now: now) == nil)
        }
    }

    @Test(arguments: Backend.available)
    func tokensOfDeletedAccountAreNotUsable(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let verification = EmailToken.make(userID: user.id, purpose: .verifyEmail, createdAt: now)
            let reset = EmailToken.make(userID: user.id, purpose: .resetPassword, createdAt: now)
            try await store.emailTokens.issue(verification, mail: .make(to: user.email, createdAt: now))
            try await store.emailTokens.issue(reset, mail: .make(to: user.email, createdAt: now))
            try await store.users.softDelete(userID: user.id, now: now.plus(1))

            #expect(try await store.emailTokens.owner(of: verification.hash, purpose: .verifyEmail, now: now.plus(2)) == nil)
            #expect(try await store.emailTokens.owner(of: reset.hash, purpose: .resetPassword, now: now.plus(2)) == nil)
            #expect(try await store.emailTokens.verifyEmail(tokenHash: verification.hash, now: now.plus(2)) == nil)
            let notice = SealedMail.make(to: user.email, createdAt: now.plus(2))
            #expect(try await store.emailTokens.resetPassword(tokenHash: reset.hash, passwordHash: "x", notice: notice, now: now.plus(2)) == false)
            #expect(try await store.stored(user)?.emailVerified == false)
        }
    }

    @Test(arguments: Backend.available)
    func verifyEmailMarksTheEmailVerifiedAndUsesTheToken(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = User.make(now: now)
            let token = EmailToken.make(userID: user.id, purpose: .verifyEmail, createdAt: now)
            try await store.users.insertUser(user, verification: (token, .make(to: user.email, createdAt: now)))

            var verified = user
            verified.emailVerified = true
            verified.updatedAt = now.plus(1)
            #expect(try await store.emailTokens.verifyEmail(tokenHash: token.hash, now: now.plus(1)) == verified)
            #expect(try await store.stored(user) == verified)
            // Used: neither a second click nor the owner lookup accepts it.
            #expect(try await store.emailTokens.verifyEmail(tokenHash: token.hash, now: now.plus(2)) == nil)
            #expect(try await store.emailTokens.owner(of: token.hash, purpose: .verifyEmail, now: now.plus(2)) == nil)
        }
    }

    @Test(arguments: Backend.available)
    func verifyEmailRefusesUnknownExpiredAndResetTokens(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let expired = EmailToken.make(userID: user.id, purpose: .verifyEmail, createdAt: now, lifetime: 60)
            let reset = EmailToken.make(userID: user.id, purpose: .resetPassword, createdAt: now)
            try await store.emailTokens.issue(expired, mail: .make(to: user.email, createdAt: now))
            try await store.emailTokens.issue(reset, mail: .make(to: user.email, createdAt: now))
            let later = now.plus(60)

            #expect(try await store.emailTokens.verifyEmail(tokenHash: freshTokenHash(), now: later) == nil)
            #expect(try await store.emailTokens.verifyEmail(tokenHash: expired.hash, now: later) == nil)
            #expect(try await store.emailTokens.verifyEmail(tokenHash: reset.hash, now: later) == nil)
            #expect(try await store.stored(user) == user)
            // Refused for the wrong purpose, the reset token was not used up.
            #expect(try await store.emailTokens.owner(of: reset.hash, purpose: .resetPassword, now: later) == user)
        }
    }

    @Test(arguments: Backend.available)
    func issuingAResetTokenVoidsOlderResetTokensOnly(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let other = try await store.insertUser(now: now)
            let older = EmailToken.make(userID: user.id, purpose: .resetPassword, createdAt: now)
            let othersReset = EmailToken.make(userID: other.id, purpose: .resetPassword, createdAt: now)
            let verification = EmailToken.make(userID: user.id, purpose: .verifyEmail, createdAt: now)
            for token in [older, othersReset, verification] {
                try await store.emailTokens.issue(token, mail: .make(createdAt: now))
            }

            let newer = EmailToken.make(userID: user.id, purpose: .resetPassword, createdAt: now.plus(1))
            try await store.emailTokens.issue(newer, mail: .make(to: user.email, createdAt: now.plus(1)))

            let later = now.plus(2)
            #expect(try await store.emailTokens.owner(of: older.hash, purpose: .resetPassword, now: later) == nil)
            #expect(try await store.emailTokens.owner(of: newer.hash, purpose: .resetPassword, now: later) == user)
            #expect(try await store.emailTokens.owner(of: othersReset.hash, purpose: .resetPassword, now: later) == other)
            #expect(try await store.emailTokens.owner(of: verification.hash, purpose: .verifyEmail, now: later) == user)
            let notice = SealedMail.make(to: user.email, createdAt: later)
            #expect(try await store.emailTokens.resetPassword(tokenHash: older.hash, passwordHash: "x", notice: notice, now: later) == false)
        }
    }

    @Test(arguments: Backend.available)
    func resetPasswordSetsThePasswordRevokesSessionsUsesTheTokenAndQueuesTheNotice(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            for _ in 0..<2 { _ = try await store.startSession(for: user, at: now) }
            let bystander = try await store.startSession(for: try await store.insertUser(now: now), at: now).session
            let token = EmailToken.make(userID: user.id, purpose: .resetPassword, createdAt: now)
            try await store.emailTokens.issue(token, mail: .make(to: user.email, createdAt: now))
            _ = try await store.claimAll(at: now)  // leases the token's mail, so that only the notice is due below

            let later = now.plus(1)
            let notice = SealedMail.make(to: user.email, subject: "Your password was reset", createdAt: later)
            #expect(try await store.emailTokens.resetPassword(tokenHash: token.hash, passwordHash: "reset-hash", notice: notice, now: later))

            var changed = user
            changed.passwordHash = "reset-hash"
            changed.updatedAt = later
            #expect(try await store.stored(user) == changed)
            #expect(try await store.liveSessionIDs(of: user, at: later).isEmpty)
            #expect(try await store.sessions.activeUser(sessionID: bystander.id, userID: bystander.userID, now: later) != nil)
            #expect(try await store.claimAll(at: later).map(\.mail) == [notice])

            let again = SealedMail.make(to: user.email, createdAt: later)
            #expect(try await store.emailTokens.resetPassword(tokenHash: token.hash, passwordHash: "other", notice: again, now: later) == false)
            #expect(try await store.stored(user)?.passwordHash == "reset-hash")
        }
    }

    /// `issue` leaves one usable reset token per user, but tokens issued before it did so (or restored by hand) may coexist:
    /// the reset must void them too, or an older link would set the password again.
    @Test(arguments: Backend.available)
    func resetPasswordVoidsTheUsersOtherResetTokens(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let used = EmailToken.make(userID: user.id, purpose: .resetPassword, createdAt: now)
            let other = EmailToken.make(userID: user.id, purpose: .resetPassword, createdAt: now)
            try await store.emailTokens.issue(other, mail: .make(to: user.email, createdAt: now))
            try await store.emailTokens.issue(used, mail: .make(to: user.email, createdAt: now))
            try await store.execute("UPDATE email_tokens SET used_at = NULL WHERE user_id = '\(user.id.uuidString.lowercased())'")
            #expect(try await store.emailTokens.owner(of: other.hash, purpose: .resetPassword, now: now) == user)

            let notice = SealedMail.make(to: user.email, createdAt: now.plus(1))
            #expect(try await store.emailTokens.resetPassword(tokenHash: used.hash, passwordHash: "reset-hash", notice: notice, now: now.plus(1)))
            #expect(try await store.emailTokens.owner(of: other.hash, purpose: .resetPassword, now: now.plus(1)) == nil)
        }
    }

    @Test(arguments: Backend.available)
    func resetPasswordRefusesUnknownExpiredAndVerificationTokensAndChangesNothing(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let session = try await store.startSession(for: user, at: now).session
            let expired = EmailToken.make(userID: user.id, purpose: .resetPassword, createdAt: now, lifetime: 60)
            let verification = EmailToken.make(userID: user.id, purpose: .verifyEmail, createdAt: now)
            try await store.emailTokens.issue(expired, mail: .make(to: user.email, createdAt: now))
            try await store.emailTokens.issue(verification, mail: .make(to: user.email, createdAt: now))
            _ = try await store.claimAll(at: now)
            let later = now.plus(60)

            for hash in [freshTokenHash(), expired.hash, verification.hash] {
                let notice = SealedMail.make(to: user.email, createdAt: later)
                #expect(try await store.emailTokens.resetPassword(tokenHash: hash, passwordHash: "x", notice: notice, now: later) == false)
            }
            #expect(try await store.stored(user) == user)
            #expect(try await store.liveSessionIDs(of: user, at: later) == [session.id])
            #expect(try await store.claimAll(at: later).isEmpty)
            #expect(try await store.emailTokens.owner(of: verification.hash, purpose: .verifyEmail, now: later) == user)
        }
    }
}
