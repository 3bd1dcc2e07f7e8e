import Metrics

/// The server's own metrics, for swift-metrics (`serve` bootstraps Prometheus; `GET /metrics` serves them). Each is made
/// once, on first use after the bootstrap: a metric made per request would be a registry look-up under its lock every
/// time. docs/operating.md ("Metrics and alerts") says which to alert on.
enum Measured {
    static let loginsSucceeded = Counter(label: "latchkey_logins_total", dimensions: [("outcome", "succeeded")])
    /// Wrong password, unknown email, unverified or disabled account; a 429 is `latchkey_rate_limited_total`.
    static let loginsFailed = Counter(label: "latchkey_logins_total", dimensions: [("outcome", "failed")])
    static let registrations = Counter(label: "latchkey_registrations_total")

    /// By outcome: `rotated`, `replayed` (a concurrent request's successor, within the grace window), `reused` (the
    /// session was revoked), `invalid`, `disabled`.
    static let refreshes: [String: Counter] = counters(
        "latchkey_refreshes_total",
        "outcome",
        ["rotated", "replayed", "reused", "invalid", "disabled"]
    )

    /// Second-factor codes by method (`totp`, `recovery`, `passkey`) and result (`success`, `failure`, `throttled`).
    static let mfaVerifications: [String: Counter] = Dictionary(
        uniqueKeysWithValues: ["totp", "recovery", "passkey"].flatMap { method in
            ["success", "failure", "throttled"].map { result in
                (
                    "\(method) \(result)",
                    Counter(label: "latchkey_mfa_verifications_total", dimensions: [("method", method), ("result", result)])
                )
            }
        }
    )

    /// Passkey ceremonies by kind (`register`, `login`, `second_factor`) and result (`success`, `failure`).
    static let passkeyCeremonies: [String: Counter] = Dictionary(
        uniqueKeysWithValues: ["register", "login", "second_factor"].flatMap { kind in
            ["success", "failure"].map { result in
                ("\(kind) \(result)", Counter(label: "latchkey_passkey_ceremonies_total", dimensions: [("kind", kind), ("result", result)]))
            }
        }
    )

    static let mailsQueued = Counter(label: "latchkey_mails_queued_total")
    static let mailsSent = Counter(label: "latchkey_mails_sent_total")
    /// Attempts that failed and will be retried.
    static let mailsRetried = Counter(label: "latchkey_mails_retried_total")
    /// Mails given up: a permanent refusal, or too many attempts.
    static let mailsFailed = Counter(label: "latchkey_mails_failed_total")
    /// Mails waiting for delivery (due or retrying), as the database holds them.
    static let mailsPending = Gauge(label: "latchkey_mail_outbox_pending")

    /// bcrypt jobs waiting for a thread of the pool, and running on one.
    static let bcryptQueued = Meter(label: "latchkey_bcrypt_queue_length")
    static let bcryptRunning = Meter(label: "latchkey_bcrypt_running")

    /// Reloads of the signing keys by trigger (`interval`, `unknown_kid`), that read the key set, and that failed.
    static let keyReloads = keyReloadCounters("ok")
    static let keyReloadsFailed = keyReloadCounters("error")

    private static func keyReloadCounters(_ outcome: String) -> [TokenIssuer.ReloadTrigger: Counter] {
        Dictionary(
            uniqueKeysWithValues: [TokenIssuer.ReloadTrigger.interval, .unknownKid].map {
                ($0, Counter(label: "latchkey_signing_key_reloads_total", dimensions: [("trigger", $0.rawValue), ("outcome", outcome)]))
            }
        )
    }

    static func counters(_ label: String, _ dimension: String, _ values: [String]) -> [String: Counter] {
        Dictionary(uniqueKeysWithValues: values.map { ($0, Counter(label: label, dimensions: [(dimension, $0)])) })
    }
}
