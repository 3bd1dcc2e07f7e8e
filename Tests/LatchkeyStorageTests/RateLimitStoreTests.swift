import Foundation
import LatchkeyCore
import Testing

// MARK: - RateLimitStore

private func bucket(_ rate: String, key: String = "ip:test:\(UUID())") -> RateBucket {
    RateBucket(key: key, rate: Rate(rate)!)
}

private let throttle = LoginThrottle(freeFailures: 3, delay: 30, maxDelay: 100)

private func attempt(_ account: String, ip: RateBucket? = nil) -> LoginAttempt {
    LoginAttempt(accountKey: account, throttle: throttle, ipBucket: ip)
}

extension StoreConformanceTests {
    /// `Rate.take` as each backend states it: a burst of N, then one request per W/N; a limited take changes nothing.
    @Test(arguments: Backend.available)
    func takeAllowsTheBurstThenRefillsEvenly(_ backend: Backend) async throws {
        try await TestStore.with(backend) { (store) async throws in
            let now = Date.wholeSecond()
            let limited = bucket("3/1m")
            for _ in 0..<3 { #expect(try await store.rateLimits.take(limited, now: now) == .allowed) }
            #expect(try await store.rateLimits.take(limited, now: now) == .limited(retryAfter: 20))
            #expect(try await store.rateLimits.take(limited, now: now.plus(19.5)) == .limited(retryAfter: 1))
            #expect(try await store.rateLimits.take(limited, now: now.plus(20)) == .allowed)
            #expect(try await store.rateLimits.take(limited, now: now.plus(20)) == .limited(retryAfter: 20))
            // A quiet bucket fills up again, to N and no further.
            for _ in 0..<3 { #expect(try await store.rateLimits.take(limited, now: now.plus(600)) == .allowed) }
            #expect(try await store.rateLimits.take(limited, now: now.plus(600)) == .limited(retryAfter: 20))
            // Buckets are independent.
            #expect(try await store.rateLimits.take(bucket("3/1m"), now: now) == .allowed)
        }
    }

    @Test(arguments: Backend.available)
    func concurrentTakesGetExactlyTheBudget(_ backend: Backend) async throws {
        try await TestStore.with(backend) { (store) async throws in
            let now = Date.wholeSecond()
            let shared = bucket("30/1m")
            let decisions = try await withThrowingTaskGroup(of: RateDecision.self) { group in
                for _ in 0..<50 { group.addTask { try await store.rateLimits.take(shared, now: now) } }
                return try await group.reduce(into: [RateDecision]()) { $0.append($1) }
            }
            #expect(decisions.filter { $0 == .allowed }.count == 30)
        }
    }

    /// `LoginThrottle.reserve` as each backend states it.
    @Test(arguments: Backend.available)
    func reserveLoginAttemptCountsWaitsAndDoubles(_ backend: Backend) async throws {
        try await TestStore.with(backend) { (store) async throws in
            let now = Date.wholeSecond()
            let t0 = now.timeIntervalSince1970
            let account = "account:\(UUID())"
            #expect(try await store.rateLimits.reserveLoginAttempt(attempt(account), now: now) == .reserved(.init(failures: 1, waitUntil: nil)))
            #expect(try await store.rateLimits.reserveLoginAttempt(attempt(account), now: now) == .reserved(.init(failures: 2, waitUntil: nil)))
            #expect(try await store.rateLimits.reserveLoginAttempt(attempt(account), now: now) == .reserved(.init(failures: 3, waitUntil: t0 + 30)))
            #expect(try await store.rateLimits.reserveLoginAttempt(attempt(account), now: now.plus(29.5)) == .throttled(retryAfter: 1))
            #expect(try await store.rateLimits.reserveLoginAttempt(attempt(account), now: now) == .throttled(retryAfter: 30))
            let afterWait = now.plus(30)
            #expect(
                try await store.rateLimits.reserveLoginAttempt(attempt(account), now: afterWait)
                    == .reserved(.init(failures: 4, waitUntil: t0 + 30 + 60))
            )
            let capped = now.plus(90)
            #expect(
                try await store.rateLimits.reserveLoginAttempt(attempt(account), now: capped)
                    == .reserved(.init(failures: 5, waitUntil: t0 + 90 + 100))
            )
            try await store.rateLimits.clearLoginFailures(accountKey: account)
            #expect(
                try await store.rateLimits.reserveLoginAttempt(attempt(account), now: now.plus(91)) == .reserved(.init(failures: 1, waitUntil: nil))
            )
        }
    }

    /// An IP over its budget stops the attempt before the account's throttle sees it; within, both are counted.
    @Test(arguments: Backend.available)
    func reserveLoginAttemptTakesFromTheIPBucketFirst(_ backend: Backend) async throws {
        try await TestStore.with(backend) { (store) async throws in
            let now = Date.wholeSecond()
            let ip = bucket("2/1m")
            let account = "account:\(UUID())"
            #expect(
                try await store.rateLimits.reserveLoginAttempt(attempt(account, ip: ip), now: now) == .reserved(.init(failures: 1, waitUntil: nil))
            )
            #expect(
                try await store.rateLimits.reserveLoginAttempt(attempt(account, ip: ip), now: now) == .reserved(.init(failures: 2, waitUntil: nil))
            )
            #expect(try await store.rateLimits.reserveLoginAttempt(attempt(account, ip: ip), now: now) == .ipLimited(retryAfter: 30))
            // The limited attempt did not count: the third failure from another IP is the one that starts the wait.
            #expect(
                try await store.rateLimits.reserveLoginAttempt(attempt(account, ip: bucket("2/1m")), now: now)
                    == .reserved(.init(failures: 3, waitUntil: now.timeIntervalSince1970 + 30))
            )
            // A waiting account still costs the IP its request.
            let other = bucket("2/1m")
            #expect(try await store.rateLimits.reserveLoginAttempt(attempt(account, ip: other), now: now) == .throttled(retryAfter: 30))
            #expect(try await store.rateLimits.take(other, now: now) == .allowed)
            #expect(try await store.rateLimits.take(other, now: now) == .limited(retryAfter: 30))
        }
    }

    @Test(arguments: Backend.available)
    func concurrentLoginAttemptsReserveAtMostTheFreeFailures(_ backend: Backend) async throws {
        try await TestStore.with(backend) { (store) async throws in
            let now = Date.wholeSecond()
            let account = "account:\(UUID())"
            let decisions = try await withThrowingTaskGroup(of: LoginAttemptDecision.self) { group in
                for _ in 0..<30 { group.addTask { try await store.rateLimits.reserveLoginAttempt(attempt(account, ip: bucket("30/1m")), now: now) } }
                return try await group.reduce(into: [LoginAttemptDecision]()) { $0.append($1) }
            }
            #expect(decisions.filter { if case .reserved = $0 { true } else { false } }.count == 3)
            #expect(decisions.filter { $0 == .throttled(retryAfter: 30) }.count == 27)
        }
    }

    @Test(arguments: Backend.available)
    func createSessionClearsTheLoginFailures(_ backend: Backend) async throws {
        try await TestStore.with(backend) { (store) async throws in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let account = "account:\(UUID())"
            for _ in 0..<3 { _ = try await store.rateLimits.reserveLoginAttempt(attempt(account), now: now) }
            let session = Session.make(userID: user.id, createdAt: now)
            try await store.sessions.createSession(session, refreshTokenHash: freshTokenHash(), maxLiveSessions: 10, clearingLoginFailures: account)
            #expect(try await store.rateLimits.reserveLoginAttempt(attempt(account), now: now) == .reserved(.init(failures: 1, waitUntil: nil)))
        }
    }

    /// Full buckets and forgotten failures go; a bucket still refilling and a running wait stay.
    @Test(arguments: Backend.available)
    func deleteSpentRemovesOnlySpentRowsInBatches(_ backend: Backend) async throws {
        try await TestStore.with(backend) { (store) async throws in
            let now = Date.wholeSecond()
            for _ in 0..<5 { _ = try await store.rateLimits.take(bucket("10/1m"), now: now) }
            let refilling = bucket("1/1h")
            _ = try await store.rateLimits.take(refilling, now: now.plus(30))
            let waiting = "account:waiting"
            for _ in 0..<3 { _ = try await store.rateLimits.reserveLoginAttempt(attempt(waiting), now: now) }
            _ = try await store.rateLimits.reserveLoginAttempt(attempt("account:forgotten"), now: now)

            let later = now.plus(20)
            #expect(try await store.rateLimits.deleteSpent(now: later, forgetBefore: now.plus(1), limit: 4) == 4)
            #expect(try await store.rateLimits.deleteSpent(now: later, forgetBefore: now.plus(1), limit: 4) == 2)
            #expect(try await store.rateLimits.deleteSpent(now: later, forgetBefore: now.plus(1), limit: 4) == 0)
            #expect(try await store.rateLimits.take(refilling, now: now.plus(31)) == .limited(retryAfter: 3599))
            #expect(try await store.rateLimits.reserveLoginAttempt(attempt(waiting), now: later) == .throttled(retryAfter: 10))
        }
    }
}
