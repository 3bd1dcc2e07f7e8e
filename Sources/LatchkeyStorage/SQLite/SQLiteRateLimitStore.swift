import Foundation
import GRDB
import LatchkeyCore

/// SQLite runs one writer at a time, so each check reads the counter and writes the decision of `Rate.take` or
/// `LoginThrottle.reserve` inside one write transaction, race-free across processes too.
///
/// A bucket that is already spent is answered from a read, without queueing for the writer: under attack nearly every
/// request is limited, and the legitimate logins' writes must not wait behind them. (Nothing but time refills a
/// bucket, so a read that finds it spent can only be wrong by the moment it took.)
struct SQLiteRateLimitStore: RateLimitStore {
    let writer: any DatabaseWriter

    func take(_ bucket: RateBucket, now: Date) async throws -> RateDecision {
        let now = now.timeIntervalSince1970
        if let retryAfter = try await spent(bucket, now: now) { return .limited(retryAfter: retryAfter) }
        return try await writer.write { db in try db.take(bucket, now: now) }
    }

    func reserveLoginAttempt(_ attempt: LoginAttempt, now: Date) async throws -> LoginAttemptDecision {
        let now = now.timeIntervalSince1970
        if let bucket = attempt.ipBucket, let retryAfter = try await spent(bucket, now: now) { return .ipLimited(retryAfter: retryAfter) }
        return try await writer.write { db in
            if let bucket = attempt.ipBucket, case .limited(let retryAfter) = try db.take(bucket, now: now) {
                return .ipLimited(retryAfter: retryAfter)
            }
            switch try db.reserve(attempt.throttle, key: attempt.accountKey, now: now) {
            case .throttled(let retryAfter): return .throttled(retryAfter: retryAfter)
            case .reserved(let reserved): return .reserved(reserved)
            }
        }
    }

    /// `Retry-After` when the bucket is spent, read without the writer.
    private func spent(_ bucket: RateBucket, now: Double) async throws -> Int? {
        let tat = try await writer.read { db in try db.tat(of: bucket) }
        if case .limited(let retryAfter) = bucket.rate.take(tat: tat, now: now) { return retryAfter }
        return nil
    }

    func clearLoginFailures(accountKey: String) async throws {
        try await writer.write { db in try db.clearLoginFailures(accountKey: accountKey) }
    }

    func deleteSpent(now: Date, forgetBefore: Date, limit: Int) async throws -> Int {
        let (now, forgetBefore) = (now.timeIntervalSince1970, forgetBefore.timeIntervalSince1970)
        return try await writer.write { db in
            try db.run("DELETE FROM rate_limit_buckets WHERE key IN (SELECT key FROM rate_limit_buckets WHERE tat <= \(now) LIMIT \(limit))")
            let buckets = db.changesCount
            try db.run(
                """
                DELETE FROM login_throttles WHERE key IN (
                    SELECT key FROM login_throttles
                    WHERE last_failure_at < \(forgetBefore) AND (wait_until IS NULL OR wait_until <= \(now)) LIMIT \(limit - buckets)
                )
                """
            )
            return buckets + db.changesCount
        }
    }
}

extension GRDB.Database {
    fileprivate func tat(of bucket: RateBucket) throws -> Double? {
        try Double.fetchOne(self, SQLRequest<Double>(literal: "SELECT tat FROM rate_limit_buckets WHERE key = \(bucket.key)", cached: true))
    }

    fileprivate func take(_ bucket: RateBucket, now: Double) throws -> RateDecision {
        switch bucket.rate.take(tat: try tat(of: bucket), now: now) {
        case .limited(let retryAfter):
            return .limited(retryAfter: retryAfter)
        case .allowed(let next):
            try run("INSERT INTO rate_limit_buckets (key, tat) VALUES (\(bucket.key), \(next)) ON CONFLICT (key) DO UPDATE SET tat = excluded.tat")
            return .allowed
        }
    }

    /// `LoginThrottle.reserve` on the state stored under `key`, inside the caller's write transaction; a throttled
    /// attempt changes nothing.
    func reserve(_ throttle: LoginThrottle, key: String, now: Double) throws -> LoginThrottle.Reservation {
        let state = try row(sql: ThrottleSQL.state, [key]).map {
            LoginThrottle.State(failures: $0["failures"], waitUntil: $0["wait_until"])
        }
        let reservation = throttle.reserve(state, now: now)
        if case .reserved(let reserved) = reservation {
            try run(sql: ThrottleSQL.reserve, [key, reserved.failures, reserved.waitUntil, now])
        }
        return reservation
    }

    func clearLoginFailures(accountKey: String) throws {
        try run(sql: ThrottleSQL.clear, [accountKey])
    }
}

/// The account throttle's statements, run by every sign-in and every wrong code, written out with placeholders.
private enum ThrottleSQL {
    static let state = "SELECT failures, wait_until FROM login_throttles WHERE key = ?"
    static let reserve = """
        INSERT INTO login_throttles (key, failures, wait_until, last_failure_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, wait_until = excluded.wait_until,
                                        last_failure_at = excluded.last_failure_at
        """
    static let clear = "DELETE FROM login_throttles WHERE key = ?"
}
