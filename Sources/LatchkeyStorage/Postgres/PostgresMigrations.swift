import Foundation
import Logging
import PostgresNIO

/// The same numbered schema history as SQLite, in PostgreSQL's types. Applied in one transaction under an
/// advisory lock, so instances starting together neither race nor apply a migration twice.
enum PostgresMigrations {
    /// A change that SQL alone cannot make, run after the migration's statements in the same transaction.
    typealias DataStep = @Sendable (PostgresConnection, Logger) async throws -> Void

    static let all: [(version: String, sql: [PostgresQuery], data: DataStep?)] = [
        (
            "0001_initial",
            [
                """
                CREATE TABLE users (
                    id uuid PRIMARY KEY,
                    email text NOT NULL UNIQUE CHECK (email = lower(email)),
                    password_hash text NOT NULL,
                    name text NOT NULL,
                    role text NOT NULL CHECK (role IN ('user', 'admin')),
                    email_verified boolean NOT NULL DEFAULT false,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL,
                    deleted_at timestamptz
                )
                """,
                """
                CREATE TABLE sessions (
                    id uuid PRIMARY KEY,
                    user_id uuid NOT NULL REFERENCES users(id),
                    created_at timestamptz NOT NULL,
                    last_used_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL,
                    user_agent text,
                    ip text,
                    revoked_at timestamptz
                )
                """,
                "CREATE INDEX sessions_user_id ON sessions(user_id)",
                """
                CREATE TABLE refresh_tokens (
                    token_hash bytea PRIMARY KEY,
                    session_id uuid NOT NULL REFERENCES sessions(id),
                    created_at timestamptz NOT NULL,
                    rotated_at timestamptz,
                    successor_hash bytea,
                    sealed_successor bytea
                )
                """,
                "CREATE INDEX refresh_tokens_session_id ON refresh_tokens(session_id)",
                """
                CREATE TABLE signing_keys (
                    kid text PRIMARY KEY,
                    algorithm text NOT NULL,
                    private_key text NOT NULL,
                    created_at timestamptz NOT NULL
                )
                """,
            ],
            nil
        ),
        (
            "0002_email_tokens_and_outbox",
            [
                """
                CREATE TABLE email_tokens (
                    token_hash bytea PRIMARY KEY,
                    user_id uuid NOT NULL REFERENCES users(id),
                    purpose text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
                    created_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL,
                    used_at timestamptz
                )
                """,
                "CREATE INDEX email_tokens_user_purpose ON email_tokens(user_id, purpose)",
                """
                CREATE TABLE mail_outbox (
                    id uuid PRIMARY KEY,
                    recipient text NOT NULL,
                    subject text NOT NULL,
                    text_body text NOT NULL,
                    html_body text NOT NULL,
                    message_id text NOT NULL,
                    created_at timestamptz NOT NULL,
                    attempts integer NOT NULL DEFAULT 0,
                    next_attempt_at timestamptz NOT NULL,
                    claimed_until timestamptz,
                    sent_at timestamptz,
                    failed_at timestamptz,
                    last_error text
                )
                """,
                "CREATE INDEX mail_outbox_due ON mail_outbox(next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL",
            ],
            nil
        ),
        ("0003_sealed_mail_bodies", ["ALTER TABLE mail_outbox ADD COLUMN sealed_body bytea"], nil),
        ("0004_normalized_emails", [], normalizeEmails),
        // See SQLite's 0005: the per-login trim to the session cap reads live sessions only.
        ("0005_live_sessions_index", ["CREATE INDEX sessions_live_by_user ON sessions(user_id, last_used_at) WHERE revoked_at IS NULL"], nil),
        (
            "0006_rate_limits",
            [
                "CREATE TABLE rate_limit_buckets (key text PRIMARY KEY, tat double precision NOT NULL)",
                "CREATE INDEX rate_limit_buckets_tat ON rate_limit_buckets(tat)",
                """
                CREATE TABLE login_throttles (
                    key text PRIMARY KEY,
                    failures integer NOT NULL,
                    wait_until double precision,
                    last_failure_at double precision NOT NULL
                )
                """,
                "CREATE INDEX login_throttles_last_failure ON login_throttles(last_failure_at)",
            ],
            nil
        ),
        (
            "0007_administration",
            [
                "ALTER TABLE users ADD COLUMN disabled_at timestamptz",
                "ALTER TABLE users ADD COLUMN last_login_at timestamptz",
                "CREATE INDEX users_newest_first ON users(created_at, id)",
            ],
            nil
        ),
        (
            "0008_signing_key_rotation",
            [
                "ALTER TABLE signing_keys ADD COLUMN activates_at timestamptz",
                "ALTER TABLE signing_keys ADD COLUMN retired_at timestamptz",
                "UPDATE signing_keys SET activates_at = created_at",
            ],
            nil
        ),
        (
            "0009_cleanup_indexes",
            [
                "CREATE INDEX sessions_expires_at ON sessions(expires_at)",
                "CREATE INDEX sessions_revoked_at ON sessions(revoked_at) WHERE revoked_at IS NOT NULL",
                "CREATE INDEX email_tokens_expires_at ON email_tokens(expires_at)",
                "CREATE INDEX email_tokens_used_at ON email_tokens(used_at) WHERE used_at IS NOT NULL",
                "CREATE INDEX mail_outbox_done_at ON mail_outbox((coalesce(sent_at, failed_at)))",
            ],
            nil
        ),
        (
            "0010_audit_events",
            [
                """
                CREATE TABLE audit_events (
                    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    id uuid NOT NULL UNIQUE,
                    at timestamptz NOT NULL,
                    type text NOT NULL,
                    user_id uuid,
                    session_id uuid,
                    ip text,
                    user_agent text,
                    request_id text,
                    details text NOT NULL DEFAULT '{}'
                )
                """,
                "CREATE INDEX audit_events_at ON audit_events(at)",
                "CREATE INDEX audit_events_by_user ON audit_events(user_id, seq) WHERE user_id IS NOT NULL",
                "CREATE INDEX audit_events_by_type ON audit_events(type, seq)",
                """
                CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'audit events are append-only'; END $$
                """,
                """
                CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events
                FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
                """,
            ],
            nil
        ),
        // As SQLite's 0011: how and when each session signed in.
        (
            "0011_session_sign_in",
            [
                "ALTER TABLE sessions ADD COLUMN amr text NOT NULL DEFAULT 'pwd'",
                "ALTER TABLE sessions ADD COLUMN auth_time timestamptz",
                "UPDATE sessions SET auth_time = created_at",
            ],
            nil
        ),
        // As SQLite's 0012: second factors.
        (
            "0012_second_factors",
            [
                """
                CREATE TABLE totp_factors (
                    user_id uuid PRIMARY KEY REFERENCES users(id),
                    sealed_secret bytea NOT NULL,
                    created_at timestamptz NOT NULL,
                    confirmed_at timestamptz,
                    last_used_step bigint
                )
                """,
                """
                CREATE TABLE recovery_codes (
                    user_id uuid NOT NULL REFERENCES users(id),
                    code_hash text NOT NULL,
                    created_at timestamptz NOT NULL,
                    used_at timestamptz,
                    PRIMARY KEY (user_id, code_hash)
                )
                """,
                """
                CREATE TABLE mfa_challenges (
                    token_hash bytea PRIMARY KEY,
                    user_id uuid NOT NULL REFERENCES users(id),
                    amr text NOT NULL,
                    failures integer NOT NULL DEFAULT 0,
                    created_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL,
                    used_at timestamptz
                )
                """,
                "CREATE INDEX mfa_challenges_expires_at ON mfa_challenges(expires_at)",
            ],
            nil
        ),
        // As SQLite's 0013: passkeys.
        (
            "0013_passkeys",
            [
                """
                CREATE TABLE passkey_user_handles (
                    user_id uuid PRIMARY KEY REFERENCES users(id),
                    handle bytea NOT NULL UNIQUE
                )
                """,
                """
                CREATE TABLE passkeys (
                    id uuid PRIMARY KEY,
                    user_id uuid NOT NULL REFERENCES users(id),
                    credential_id bytea NOT NULL UNIQUE,
                    public_key bytea NOT NULL,
                    sign_count bigint NOT NULL,
                    backup_eligible boolean NOT NULL,
                    backed_up boolean NOT NULL,
                    transports text NOT NULL,
                    aaguid uuid NOT NULL,
                    name text NOT NULL,
                    created_at timestamptz NOT NULL,
                    last_used_at timestamptz
                )
                """,
                "CREATE INDEX passkeys_user_id ON passkeys(user_id)",
                """
                CREATE TABLE passkey_challenges (
                    hash bytea PRIMARY KEY,
                    purpose text NOT NULL,
                    user_id uuid REFERENCES users(id),
                    created_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL,
                    used_at timestamptz
                )
                """,
                "CREATE INDEX passkey_challenges_expires_at ON passkey_challenges(expires_at)",
            ],
            nil
        ),
    ]

    private static func normalizeEmails(_ connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.rows("SELECT id, email FROM users", logger: logger).map {
            (id: try $0.value("id", as: UUID.self), email: try $0.value("email", as: String.self))
        }
        for rename in EmailRenames.of(rows) {
            _ = try await connection.rows("UPDATE users SET email = \(rename.email) WHERE id = \(rename.id)", logger: logger)
        }
    }

    /// A fixed key for `pg_advisory_xact_lock`: "latchkey" in ASCII.
    static let lockKey: Int64 = 0x6C61_7463_686B_6579

    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                logger: logger
            )
            var applied: Set<String> = []
            for try await version in try await connection.query("SELECT version FROM schema_migrations", logger: logger).decode(String.self) {
                applied.insert(version)
            }
            for migration in all where !applied.contains(migration.version) {
                for statement in migration.sql { try await connection.query(statement, logger: logger) }
                try await migration.data?(connection, logger)
                try await connection.query("INSERT INTO schema_migrations (version) VALUES (\(migration.version))", logger: logger)
                logger.info("migration applied", metadata: ["version": "\(migration.version)"])
            }
        }
    }
}
