import Foundation
import LatchkeyCore
import Testing

// MARK: - MFAStore: every use of a code decided by the database

extension StoreConformanceTests {
    @Test(arguments: Backend.available)
    func totpStepsAreTakenOnceAndInOrderEvenInParallel(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let session = try await store.startSession(for: user, at: now).session
            _ = try await store.startSession(for: user, at: now)
            let (first, second) = (randomBytes(), randomBytes())
            #expect(try await store.mfa.startTOTPEnrolment(userID: user.id, sealedSecret: first, now: now))
            // A pending factor takes no code but its confirmation; a second enrolment replaces the first, whose code then
            // confirms nothing.
            #expect(try await store.mfa.useTOTPStep(userID: user.id, step: 100) == false)
            #expect(try await store.mfa.startTOTPEnrolment(userID: user.id, sealedSecret: second, now: now))
            #expect(try await store.confirm(user, secret: first, step: 100, keeping: session) == false)
            #expect(try await store.confirm(user, secret: second, step: 100, keeping: session))
            #expect(try await store.liveSessionIDs(of: user, at: now) == [session.id])
            let factors = try await store.mfa.factors(userID: user.id)
            #expect(factors.requiresCode && factors.totp?.lastUsedStep == 100 && factors.recoveryCodesRemaining == 2)
            // On: a new enrolment is refused; a step at or before the last one is refused.
            #expect(try await store.mfa.startTOTPEnrolment(userID: user.id, sealedSecret: randomBytes(), now: now) == false)
            #expect(try await store.mfa.useTOTPStep(userID: user.id, step: 100) == false)
            #expect(try await store.mfa.useTOTPStep(userID: user.id, step: 99) == false)
            let results = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 { group.addTask { try await store.mfa.useTOTPStep(userID: user.id, step: 101) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 1)
            // Removed and enrolled again: the account's last used step still holds.
            #expect(try await store.mfa.removeTOTP(userID: user.id, revokingSessions: false, now: now, audit: .standIn(now)))
            #expect(try await store.mfa.factors(userID: user.id) == SecondFactors(totp: nil, recoveryCodesRemaining: 0))
            let third = randomBytes()
            #expect(try await store.mfa.startTOTPEnrolment(userID: user.id, sealedSecret: third, now: now))
            #expect(try await store.confirm(user, secret: third, step: 101, keeping: session) == false)
            #expect(try await store.confirm(user, secret: third, step: 102, keeping: session))
        }
    }

    @Test(arguments: Backend.available)
    func recoveryCodesAreSpentOnceEvenInParallelAndReplacedWhole(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            // Without TOTP on there are no recovery codes to make.
            #expect(try await store.mfa.replaceRecoveryCodes(userID: user.id, hashes: ["one"], now: now, audit: .standIn(now)) == false)
            let secret = randomBytes()
            _ = try await store.mfa.startTOTPEnrolment(userID: user.id, sealedSecret: secret, now: now)
            let session = try await store.startSession(for: user, at: now).session
            #expect(try await store.confirm(user, secret: secret, step: 1, keeping: session))
            #expect(try await store.mfa.replaceRecoveryCodes(userID: user.id, hashes: ["one", "two"], now: now, audit: .standIn(now)))
            let results = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 { group.addTask { try await store.mfa.useRecoveryCode(userID: user.id, hash: "one", now: now, audit: .standIn(now)) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 1)
            #expect(try await store.mfa.factors(userID: user.id).recoveryCodesRemaining == 1)
            // Another account's code is not this one's.
            let other = try await store.insertUser(now: now)
            #expect(try await store.mfa.useRecoveryCode(userID: other.id, hash: "two", now: now, audit: .standIn(now)) == false)
            #expect(try await store.mfa.replaceRecoveryCodes(userID: user.id, hashes: ["three"], now: now, audit: .standIn(now)))
            #expect(try await store.mfa.useRecoveryCode(userID: user.id, hash: "two", now: now, audit: .standIn(now)) == false)
            #expect(try await store.mfa.factors(userID: user.id).recoveryCodesRemaining == 1)
            #expect(try await store.mfa.removeTOTP(userID: user.id, revokingSessions: false, now: now, audit: .standIn(now)))
            #expect(try await store.mfa.factors(userID: user.id) == SecondFactors(totp: nil, recoveryCodesRemaining: 0))
            #expect(try await store.mfa.useRecoveryCode(userID: user.id, hash: "three", now: now, audit: .standIn(now)) == false)
        }
    }

    @Test(arguments: Backend.available)
    func challengesTakeAtMostFiveWrongCodesAndEndOnce(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let challenge = MFAChallenge.make(userID: user.id, createdAt: now)
            try await store.mfa.createChallenge(challenge)
            #expect(try await store.mfa.liveChallenge(tokenHash: challenge.tokenHash, now: now) == challenge)
            let reserved = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<12 {
                    group.addTask { try await store.mfa.reserveChallengeAttempt(tokenHash: challenge.tokenHash, now: now) != nil }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(reserved.filter { $0 }.count == MFAChallenge.maxFailures)
            #expect(try await store.mfa.liveChallenge(tokenHash: challenge.tokenHash, now: now) == nil)

            let second = MFAChallenge.make(userID: user.id, createdAt: now)
            try await store.mfa.createChallenge(second)
            #expect(try await store.mfa.reserveChallengeAttempt(tokenHash: second.tokenHash, now: now)?.failures == 1)
            #expect(try await store.mfa.finishChallenge(tokenHash: second.tokenHash, now: now))
            #expect(try await store.mfa.finishChallenge(tokenHash: second.tokenHash, now: now) == false)
            #expect(try await store.mfa.liveChallenge(tokenHash: second.tokenHash, now: now) == nil)
            // Expired ones are not live, and cleanup deletes ended ones.
            #expect(try await store.mfa.liveChallenge(tokenHash: challenge.tokenHash, now: now.plus(301)) == nil)
            #expect(try await store.mfa.deleteEndedChallenges(before: now.plus(400), limit: 10) == 2)
        }
    }
}

extension StoreConformanceTests {
    @Test(arguments: Backend.available)
    func aSecondStepIsAdmittedThenCompletedOnce(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let secret = randomBytes()
            _ = try await store.mfa.startTOTPEnrolment(userID: user.id, sealedSecret: secret, now: now)
            let first = try await store.startSession(for: user, at: now).session
            #expect(try await store.confirm(user, secret: secret, step: 10, keeping: first))
            let challenge = MFAChallenge.make(userID: user.id, createdAt: now)
            try await store.mfa.createChallenge(challenge)
            let throttle = LoginThrottle(freeFailures: 2, delay: 30, maxDelay: 60)
            #expect(try await store.mfa.admitSecondStep(tokenHash: freshTokenHash(), throttle: throttle, now: now).isGone)

            guard
                case .admitted(let admitted, let owner, let factors) = try await store.mfa.admitSecondStep(
                    tokenHash: challenge.tokenHash,
                    throttle: throttle,
                    now: now
                )
            else {
                Issue.record("not admitted")
                return
            }
            #expect(admitted.failures == 1 && owner.id == user.id && factors.requiresCode && factors.totp?.lastUsedStep == 10)
            // A used step is rejected and changes nothing.
            let new = Session.make(userID: user.id, createdAt: now)
            let stored = NewSession(session: new, refreshTokenHash: freshTokenHash(), maxLiveSessions: 100, audit: nil)
            #expect(
                try await store.mfa.completeSecondStep(
                    tokenHash: challenge.tokenHash,
                    userID: user.id,
                    code: .totpStep(10),
                    session: stored,
                    now: now
                )
                    == .codeRejected
            )
            #expect(try await store.liveSessionIDs(of: user, at: now) == [first.id])
            #expect(
                try await store.mfa.completeSecondStep(
                    tokenHash: challenge.tokenHash,
                    userID: user.id,
                    code: .totpStep(11),
                    session: stored,
                    now: now
                )
                    == .completed
            )
            #expect(Set(try await store.liveSessionIDs(of: user, at: now)) == [first.id, new.id])
            #expect(try await store.mfa.liveChallenge(tokenHash: challenge.tokenHash, now: now) == nil)
            #expect(try await store.mfa.admitSecondStep(tokenHash: challenge.tokenHash, throttle: throttle, now: now).isGone)
            // The completion forgot the account's wrong codes: two more admissions before its wait.
            for _ in 0..<3 {
                let another = MFAChallenge.make(userID: user.id, createdAt: now)
                try await store.mfa.createChallenge(another)
                let admission = try await store.mfa.admitSecondStep(tokenHash: another.tokenHash, throttle: throttle, now: now)
                if case .throttled = admission { return }
            }
            Issue.record("the account's code budget never made it wait")
        }
    }
}

extension MFAChallenge {
    /// A fresh challenge of a password sign-in, live for five minutes from `createdAt`.
    static func make(userID: UUID, createdAt: Date) -> MFAChallenge {
        MFAChallenge(tokenHash: freshTokenHash(), userID: userID, amr: ["pwd"], failures: 0, createdAt: createdAt, expiresAt: createdAt.plus(300))
    }
}

extension SecondStepAdmission {
    var isGone: Bool {
        if case .challengeGone = self { return true }
        return false
    }
}

extension TestStore {
    /// Confirms the pending enrolment of `secret` with a code of `step`, with two recovery codes.
    func confirm(_ user: User, secret: Data, step: Int64, keeping session: Session) async throws -> Bool {
        try await mfa.confirmTOTP(
            userID: user.id,
            sealedSecret: secret,
            step: step,
            recoveryCodeHashes: ["a", "b"],
            keepSessionID: session.id,
            now: Date(),
            audit: .standIn()
        )
    }
}
