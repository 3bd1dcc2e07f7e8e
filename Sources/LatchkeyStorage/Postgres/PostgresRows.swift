import Foundation
import LatchkeyCore
import PostgresNIO

// Decoding rows into domain values.

extension User {
    /// `prefix` reads the columns of a join that renamed them (`u.email AS u_email`).
    init(row: PostgresRandomAccessRow, prefix: String = "") throws {
        self.init(
            id: try row.value(prefix + "id"),
            email: try row.value(prefix + "email"),
            passwordHash: try row.value(prefix + "password_hash"),
            name: try row.value(prefix + "name"),
            role: Role(rawValue: try row.value(prefix + "role")) ?? .user,
            emailVerified: try row.value(prefix + "email_verified"),
            createdAt: try row.value(prefix + "created_at"),
            updatedAt: try row.value(prefix + "updated_at"),
            deletedAt: try row.value(prefix + "deleted_at"),
            disabledAt: try row.value(prefix + "disabled_at")
        )
    }
}

extension Session {
    init(row: PostgresRandomAccessRow) throws {
        self.init(
            id: try row.value("id"),
            userID: try row.value("user_id"),
            createdAt: try row.value("created_at"),
            lastUsedAt: try row.value("last_used_at"),
            expiresAt: try row.value("expires_at"),
            userAgent: try row.value("user_agent"),
            ip: try row.value("ip"),
            revokedAt: try row.value("revoked_at"),
            amr: try row.value("amr", as: String.self).split(separator: " ").map(String.init),
            authTime: try row.value("auth_time", as: Date?.self) ?? row.value("created_at", as: Date.self)
        )
    }
}

extension QueuedMail {
    init(row: PostgresRandomAccessRow) throws {
        self.init(
            mail: SealedMail(
                id: try row.value("id"),
                to: try row.value("recipient"),
                subject: try row.value("subject"),
                messageID: try row.value("message_id"),
                createdAt: try row.value("created_at"),
                body: try row.value("sealed_body", as: Data?.self).map { .sealed($0) }
                    ?? .plain(text: try row.value("text_body"), html: try row.value("html_body"))
            ),
            attempts: try row.value("attempts")
        )
    }
}

extension SigningKey {
    init(row: PostgresRandomAccessRow) throws {
        self.init(
            kid: try row.value("kid"),
            algorithm: SigningAlgorithm(rawValue: try row.value("algorithm")) ?? .eddsa,
            privateKey: try row.value("private_key"),
            createdAt: try row.value("created_at"),
            activatesAt: try row.value("activates_at"),
            retiredAt: try row.value("retired_at")
        )
    }
}

extension PostgresRandomAccessRow {
    func value<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        try self[column].decode(T.self)
    }
}

extension PSQLError {
    var isUniqueViolation: Bool { serverInfo?[.sqlState] == "23505" }
}

extension AuditEvent {
    init(row: PostgresRandomAccessRow) throws {
        self.init(
            id: try row.value("id"),
            at: try row.value("at"),
            type: Kind(rawValue: try row.value("type")),
            userID: try row.value("user_id"),
            sessionID: try row.value("session_id"),
            ip: try row.value("ip"),
            userAgent: try row.value("user_agent"),
            requestID: try row.value("request_id"),
            details: AuditEvent.details(json: try row.value("details"))
        )
    }
}
