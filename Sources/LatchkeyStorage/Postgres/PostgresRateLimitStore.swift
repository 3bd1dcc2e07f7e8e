import Foundation
import LatchkeyCore
import PostgresNIO

/// Each check is one statement: `INSERT … ON CONFLICT DO UPDATE … WHERE` decides it under the row's lock, so
/// concurrent requests on every instance see each other's updates; nothing is read first and written after.
struct PostgresRateLimitStore: RateLimitStore {
    let executor: PostgresExecutor

    func take(_ bucket: RateBucket, now: Date) async throws -> RateDecision {
        let now = now.timeIntervalSince1970
        guard let row = try await executor.rows(TakeQuery(bucket: bucket, now: now)).first else { return .limited(retryAfter: 1) }
        if try row.value("allowed", as: Bool.self) { return .allowed }
        let tat = try await value(row, "tat", orReread: "SELECT tat AS value FROM rate_limit_buckets WHERE key = \(bucket.key)")
        return .limited(retryAfter: tat.map { bucket.rate.retryAfter(tat: $0, now: now) } ?? 1)
    }

    func reserveLoginAttempt(_ attempt: LoginAttempt, now: Date) async throws -> LoginAttemptDecision {
        let now = now.timeIntervalSince1970
        guard let row = try await executor.rows(ReserveLoginQuery(attempt: attempt, now: now)).first else { return .ipLimited(retryAfter: 1) }
        guard try row.value("ip_allowed", as: Bool.self) else {
            guard let bucket = attempt.ipBucket,
                let tat = try await value(row, "ip_tat", orReread: "SELECT tat AS value FROM rate_limit_buckets WHERE key = \(bucket.key)")
            else { return .ipLimited(retryAfter: 1) }
            return .ipLimited(retryAfter: bucket.rate.retryAfter(tat: tat, now: now))
        }
        if let failures = try row.value("failures", as: Int?.self) {
            return .reserved(LoginThrottle.State(failures: failures, waitUntil: try row.value("wait_until", as: Double?.self)))
        }
        let wait = try await value(row, "current_wait", orReread: "SELECT wait_until AS value FROM login_throttles WHERE key = \(attempt.accountKey)")
        return .throttled(retryAfter: wait.map { Rate.wholeSeconds($0 - now) } ?? 1)
    }

    /// The stored time of a limited request's counter. When the statement's snapshot predates the row (a
    /// concurrent request inserted it, then decided against this one), a second look: rare, and only when limited.
    private func value(_ row: PostgresRandomAccessRow, _ column: String, orReread query: PostgresQuery) async throws -> Double? {
        if let value = try row.value(column, as: Double?.self) { return value }
        return try await executor.rows(query).first?.value("value", as: Double?.self)
    }

    func clearLoginFailures(accountKey: String) async throws {
        try await executor.execute("DELETE FROM login_throttles WHERE key = \(accountKey)")
    }

    func deleteSpent(now: Date, forgetBefore: Date, limit: Int) async throws -> Int {
        let (now, forgetBefore) = (now.timeIntervalSince1970, forgetBefore.timeIntervalSince1970)
        let buckets = try await executor.rows(
            "DELETE FROM rate_limit_buckets WHERE key IN (SELECT key FROM rate_limit_buckets WHERE tat <= \(now) LIMIT \(limit)) RETURNING 1"
        ).count
        let throttles = try await executor.rows(
            """
            DELETE FROM login_throttles WHERE key IN (
                SELECT key FROM login_throttles
                WHERE last_failure_at < \(forgetBefore) AND (wait_until IS NULL OR wait_until <= \(now)) LIMIT \(limit - buckets)
            )
            RETURNING 1
            """
        ).count
        return buckets + throttles
    }
}

/// `Rate.take` in SQL: the new `tat` is written only when it stays within the window. When it is not, the
/// outer SELECT still shows the stored `tat` (its snapshot is from before the statement), for `Retry-After`.
private struct TakeQuery: PostgresHotQuery {
    static let sql = """
        WITH taken AS (
            INSERT INTO rate_limit_buckets AS b (key, tat) VALUES ($1::text, $2::float8 + $3::float8)
            ON CONFLICT (key) DO UPDATE SET tat = greatest(b.tat, $2::float8) + $3::float8
            WHERE greatest(b.tat, $2::float8) + $3::float8 - $2::float8 <= $4::float8 + 1e-6
            RETURNING tat
        )
        SELECT EXISTS (SELECT 1 FROM taken) AS allowed, (SELECT tat FROM rate_limit_buckets WHERE key = $1::text) AS tat
        """
    var bucket: RateBucket
    var now: Double

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 4)
        bindings.append(bucket.key)
        bindings.append(now)
        bindings.append(bucket.rate.interval)
        bindings.append(Double(bucket.rate.window))
        return bindings
    }
}

/// The IP bucket as in `TakeQuery` (skipped when `$1` is null), then `LoginThrottle.reserve` on the account,
/// only when the bucket let the attempt through: the failure is counted and, from the free failures on, the
/// wait set, unless a wait is running (then nothing is written and `current_wait` gives `Retry-After`).
private struct ReserveLoginQuery: PostgresHotQuery {
    static let sql = """
        WITH ip AS (
            INSERT INTO rate_limit_buckets AS b (key, tat) SELECT $1::text, $2::float8 + $3::float8 WHERE $1::text IS NOT NULL
            ON CONFLICT (key) DO UPDATE SET tat = greatest(b.tat, $2::float8) + $3::float8
            WHERE greatest(b.tat, $2::float8) + $3::float8 - $2::float8 <= $4::float8 + 1e-6
            RETURNING tat
        ), account AS (
            INSERT INTO login_throttles AS t (key, failures, wait_until, last_failure_at)
            SELECT $5::text, 1, CASE WHEN 1 >= $6::int8 THEN $2::float8 + $7::float8 END, $2::float8
            WHERE $1::text IS NULL OR EXISTS (SELECT 1 FROM ip)
            ON CONFLICT (key) DO UPDATE SET
                failures = t.failures + 1,
                wait_until = CASE WHEN t.failures + 1 >= $6::int8
                    THEN $2::float8 + least($8::float8, $7::float8 * power(2::float8, least(t.failures + 1 - $6::int8, 30))) END,
                last_failure_at = $2::float8
            WHERE t.wait_until IS NULL OR t.wait_until <= $2::float8
            RETURNING failures, wait_until
        )
        SELECT $1::text IS NULL OR EXISTS (SELECT 1 FROM ip) AS ip_allowed,
               (SELECT tat FROM rate_limit_buckets WHERE key = $1::text) AS ip_tat,
               (SELECT failures FROM account) AS failures,
               (SELECT wait_until FROM account) AS wait_until,
               (SELECT wait_until FROM login_throttles WHERE key = $5::text) AS current_wait
        """
    var attempt: LoginAttempt
    var now: Double

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 8)
        bindings.append(attempt.ipBucket?.key)
        bindings.append(now)
        bindings.append(attempt.ipBucket?.rate.interval ?? 0)
        bindings.append(Double(attempt.ipBucket?.rate.window ?? 0))
        bindings.append(attempt.accountKey)
        bindings.append(attempt.throttle.freeFailures)
        bindings.append(Double(attempt.throttle.delay))
        bindings.append(Double(attempt.throttle.maxDelay))
        return bindings
    }
}
