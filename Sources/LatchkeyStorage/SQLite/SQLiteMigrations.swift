import GRDB

/// The numbered, append-only schema history. Never edit a migration that has shipped: add the next one.
/// PostgreSQL gets the same logical schema under the same numbers.
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("0001_initial") { db in
            try db.execute(
                sql: """
                    CREATE TABLE users (
                        id TEXT PRIMARY KEY NOT NULL,
                        email TEXT NOT NULL UNIQUE CHECK (email = lower(email)),
                        password_hash TEXT NOT NULL,
                        name TEXT NOT NULL,
                        role TEXT NOT NULL CHECK (role IN ('user', 'admin')),
                        email_verified INTEGER NOT NULL DEFAULT 0,
                        created_at DATETIME NOT NULL,
                        updated_at DATETIME NOT NULL,
                        deleted_at DATETIME
                    );
                    CREATE TABLE sessions (
                        id TEXT PRIMARY KEY NOT NULL,
                        user_id TEXT NOT NULL REFERENCES users(id),
                        created_at DATETIME NOT NULL,
                        last_used_at DATETIME NOT NULL,
                        expires_at DATETIME NOT NULL,
                        user_agent TEXT,
                        ip TEXT,
                        revoked_at DATETIME
                    );
                    CREATE INDEX sessions_user_id ON sessions(user_id);
                    CREATE TABLE refresh_tokens (
                        token_hash BLOB PRIMARY KEY NOT NULL,
                        session_id TEXT NOT NULL REFERENCES sessions(id),
                        created_at DATETIME NOT NULL,
                        rotated_at DATETIME,
                        successor_hash BLOB,
                        sealed_successor BLOB
                    );
                    CREATE INDEX refresh_tokens_session_id ON refresh_tokens(session_id);
                    CREATE TABLE signing_keys (
                        kid TEXT PRIMARY KEY NOT NULL,
                        algorithm TEXT NOT NULL,
                        private_key TEXT NOT NULL,
                        created_at DATETIME NOT NULL
                    );
                    """
            )
        }
        migrator.registerMigration("0002_email_tokens_and_outbox") { db in
            try db.execute(
                sql: """
                    CREATE TABLE email_tokens (
                        token_hash BLOB PRIMARY KEY NOT NULL,
                        user_id TEXT NOT NULL REFERENCES users(id),
                        purpose TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
                        created_at DATETIME NOT NULL,
                        expires_at DATETIME NOT NULL,
                        used_at DATETIME
                    );
                    CREATE INDEX email_tokens_user_purpose ON email_tokens(user_id, purpose);
                    CREATE TABLE mail_outbox (
                        id TEXT PRIMARY KEY NOT NULL,
                        recipient TEXT NOT NULL,
                        subject TEXT NOT NULL,
                        text_body TEXT NOT NULL,
                        html_body TEXT NOT NULL,
                        message_id TEXT NOT NULL,
                        created_at DATETIME NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at DATETIME NOT NULL,
                        claimed_until DATETIME,
                        sent_at DATETIME,
                        failed_at DATETIME,
                        last_error TEXT
                    );
                    CREATE INDEX mail_outbox_due ON mail_outbox(next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
                    """
            )
        }
        migrator.registerMigration("0003_sealed_mail_bodies") { db in
            try db.execute(sql: "ALTER TABLE mail_outbox ADD COLUMN sealed_body BLOB")
        }
        migrator.registerMigration("0004_normalized_emails") { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, email FROM users").map { (id: $0["id"] as String, email: $0["email"] as String) }
            for rename in EmailRenames.of(rows) {
                try db.execute(literal: "UPDATE users SET email = \(rename.email) WHERE id = \(rename.id)")
            }
        }
        // Every login trims the user's live sessions to the cap: an index of live sessions only, so the trim and
        // the session list read a handful of rows, not every session the user ever had.
        migrator.registerMigration("0005_live_sessions_index") { db in
            try db.execute(sql: "CREATE INDEX sessions_live_by_user ON sessions(user_id, last_used_at) WHERE revoked_at IS NULL")
        }
        // The abuse limits' counters (see RateLimitStore); the indexes serve the cleanup of spent rows.
        migrator.registerMigration("0006_rate_limits") { db in
            try db.execute(
                sql: """
                    CREATE TABLE rate_limit_buckets (key TEXT PRIMARY KEY NOT NULL, tat REAL NOT NULL) WITHOUT ROWID;
                    CREATE INDEX rate_limit_buckets_tat ON rate_limit_buckets(tat);
                    CREATE TABLE login_throttles (
                        key TEXT PRIMARY KEY NOT NULL,
                        failures INTEGER NOT NULL,
                        wait_until REAL,
                        last_failure_at REAL NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX login_throttles_last_failure ON login_throttles(last_failure_at);
                    """
            )
        }
        // Administration: disabled accounts, the last login, and the newest-first list of users.
        migrator.registerMigration("0007_administration") { db in
            try db.execute(
                sql: """
                    ALTER TABLE users ADD COLUMN disabled_at DATETIME;
                    ALTER TABLE users ADD COLUMN last_login_at DATETIME;
                    CREATE INDEX users_newest_first ON users(created_at, id);
                    """
            )
        }
        // Signing-key rotation: a key signs from `activates_at` (NULL: since its creation) until retired.
        migrator.registerMigration("0008_signing_key_rotation") { db in
            try db.execute(
                sql: """
                    ALTER TABLE signing_keys ADD COLUMN activates_at DATETIME;
                    ALTER TABLE signing_keys ADD COLUMN retired_at DATETIME;
                    UPDATE signing_keys SET activates_at = created_at;
                    """
            )
        }
        // Cleanup deletes ended sessions, spent tokens and old mails in batches: each batch finds its rows by index.
        migrator.registerMigration("0009_cleanup_indexes") { db in
            try db.execute(
                sql: """
                    CREATE INDEX sessions_expires_at ON sessions(expires_at);
                    CREATE INDEX sessions_revoked_at ON sessions(revoked_at) WHERE revoked_at IS NOT NULL;
                    CREATE INDEX email_tokens_expires_at ON email_tokens(expires_at);
                    CREATE INDEX email_tokens_used_at ON email_tokens(used_at) WHERE used_at IS NOT NULL;
                    CREATE INDEX mail_outbox_done_at ON mail_outbox(coalesce(sent_at, failed_at));
                    """
            )
        }
        // The audit log. No foreign keys: events outlive what they are about. `seq` is the order of writing, which lists
        // events written in the same millisecond in the order they happened. Rows are never updated, only deleted past
        // their retention; the trigger makes that a rule of the schema.
        migrator.registerMigration("0010_audit_events") { db in
            try db.execute(
                sql: """
                    CREATE TABLE audit_events (
                        seq INTEGER PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        at DATETIME NOT NULL,
                        type TEXT NOT NULL,
                        user_id TEXT,
                        session_id TEXT,
                        ip TEXT,
                        user_agent TEXT,
                        request_id TEXT,
                        details TEXT NOT NULL DEFAULT '{}'
                    );
                    CREATE INDEX audit_events_at ON audit_events(at);
                    CREATE INDEX audit_events_by_user ON audit_events(user_id, seq) WHERE user_id IS NOT NULL;
                    CREATE INDEX audit_events_by_type ON audit_events(type, seq);
                    CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events
                    BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
                    """
            )
        }
        // How each session signed in (`amr`, its methods separated by spaces) and when (`auth_time`). The sessions of
        // earlier versions all signed in with a password, when they were created.
        migrator.registerMigration("0011_session_sign_in") { db in
            try db.execute(
                sql: """
                    ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
                    ALTER TABLE sessions ADD COLUMN auth_time DATETIME;
                    UPDATE sessions SET auth_time = created_at;
                    """
            )
        }
        // Second factors. A TOTP secret is sealed under the KEK; recovery codes are keyed hashes; a challenge is a
        // sign-in waiting for its second step, kept by the hash of its token.
        migrator.registerMigration("0012_second_factors") { db in
            try db.execute(
                sql: """
                    CREATE TABLE totp_factors (
                        user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id),
                        sealed_secret BLOB NOT NULL,
                        created_at DATETIME NOT NULL,
                        confirmed_at DATETIME,
                        last_used_step INTEGER
                    );
                    CREATE TABLE recovery_codes (
                        user_id TEXT NOT NULL REFERENCES users(id),
                        code_hash TEXT NOT NULL,
                        created_at DATETIME NOT NULL,
                        used_at DATETIME,
                        PRIMARY KEY (user_id, code_hash)
                    );
                    CREATE TABLE mfa_challenges (
                        token_hash BLOB PRIMARY KEY NOT NULL,
                        user_id TEXT NOT NULL REFERENCES users(id),
                        amr TEXT NOT NULL,
                        failures INTEGER NOT NULL DEFAULT 0,
                        created_at DATETIME NOT NULL,
                        expires_at DATETIME NOT NULL,
                        used_at DATETIME
                    );
                    CREATE INDEX mfa_challenges_expires_at ON mfa_challenges(expires_at);
                    """
            )
        }
        migrator.registerMigration("0013_passkeys") { db in
            try db.execute(
                sql: """
                    CREATE TABLE passkey_user_handles (
                        user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id),
                        handle BLOB NOT NULL UNIQUE
                    );
                    CREATE TABLE passkeys (
                        id TEXT PRIMARY KEY NOT NULL,
                        user_id TEXT NOT NULL REFERENCES users(id),
                        credential_id BLOB NOT NULL UNIQUE,
                        public_key BLOB NOT NULL,
                        sign_count INTEGER NOT NULL,
                        backup_eligible BOOLEAN NOT NULL,
                        backed_up BOOLEAN NOT NULL,
                        transports TEXT NOT NULL,
                        aaguid TEXT NOT NULL,
                        name TEXT NOT NULL,
                        created_at DATETIME NOT NULL,
                        last_used_at DATETIME
                    );
                    CREATE INDEX passkeys_user_id ON passkeys(user_id);
                    CREATE TABLE passkey_challenges (
                        hash BLOB PRIMARY KEY NOT NULL,
                        purpose TEXT NOT NULL,
                        user_id TEXT REFERENCES users(id),
                        created_at DATETIME NOT NULL,
                        expires_at DATETIME NOT NULL,
                        used_at DATETIME
                    );
                    CREATE INDEX passkey_challenges_expires_at ON passkey_challenges(expires_at);
                    """
            )
        }
        return migrator
    }
}
