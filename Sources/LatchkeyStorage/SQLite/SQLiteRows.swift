import Foundation
import GRDB
import LatchkeyCore

// Decoding rows into domain values, and the column forms values take.

extension UUID {
    /// Ids are stored as lower-case text, readable in a SQL shell.
    var databaseText: String { uuidString.lowercased() }
}

extension Row {
    func uuid(_ column: String) -> UUID {
        UUID(uuidString: self[column] as String)!
    }
}

extension User {
    /// `prefix` reads the columns of a join that renamed them (`u.email AS u_email`).
    init(row: Row, prefix: String = "") {
        self.init(
            id: row.uuid(prefix + "id"),
            email: row[prefix + "email"],
            passwordHash: row[prefix + "password_hash"],
            name: row[prefix + "name"],
            role: Role(rawValue: row[prefix + "role"]) ?? .user,
            emailVerified: row[prefix + "email_verified"],
            createdAt: row[prefix + "created_at"],
            updatedAt: row[prefix + "updated_at"],
            deletedAt: row[prefix + "deleted_at"],
            disabledAt: row[prefix + "disabled_at"]
        )
    }
}

extension Session {
    init(row: Row) {
        self.init(
            id: row.uuid("id"),
            userID: row.uuid("user_id"),
            createdAt: row["created_at"],
            lastUsedAt: row["last_used_at"],
            expiresAt: row["expires_at"],
            userAgent: row["user_agent"],
            ip: row["ip"],
            revokedAt: row["revoked_at"],
            amr: ((row["amr"] as String?) ?? "pwd").split(separator: " ").map(String.init),
            authTime: (row["auth_time"] as Date?) ?? row["created_at"]
        )
    }
}

extension QueuedMail {
    init(row: Row) {
        self.init(
            mail: SealedMail(
                id: row.uuid("id"),
                to: row["recipient"],
                subject: row["subject"],
                messageID: row["message_id"],
                createdAt: row["created_at"],
                body: (row["sealed_body"] as Data?).map { .sealed($0) } ?? .plain(text: row["text_body"], html: row["html_body"])
            ),
            attempts: row["attempts"]
        )
    }
}

extension SigningKey {
    init(row: Row) {
        self.init(
            kid: row["kid"],
            algorithm: SigningAlgorithm(rawValue: row["algorithm"]) ?? .eddsa,
            privateKey: row["private_key"],
            createdAt: row["created_at"],
            activatesAt: row["activates_at"],
            retiredAt: row["retired_at"]
        )
    }
}

extension SQLInterpolation {
    /// Binds a date as the text GRDB stores ("yyyy-MM-dd HH:mm:ss.SSS", UTC), to the nearest millisecond. The
    /// seconds are formatted by Foundation's ISO 8601 style (GRDB's own DateFormatter costs several microseconds per
    /// bound date on Linux); the milliseconds are counted here, because the style cuts the fraction off and a
    /// binary `…32.870` is a hair below it.
    mutating func appendInterpolation(_ date: Date) {
        let (seconds, milliseconds) = Int64((date.timeIntervalSince1970 * 1000).rounded()).quotientAndRemainder(dividingBy: 1000)
        let text = Date(timeIntervalSince1970: Double(seconds)).formatted(Date.databaseStyle) + "." + String(1000 + milliseconds).dropFirst()
        appendInterpolation(text)
    }
}

extension Date {
    fileprivate static let databaseStyle = ISO8601FormatStyle(dateSeparator: .dash, dateTimeSeparator: .space, timeZone: .gmt)
        .year().month().day().time(includingFractionalSeconds: false)
}

extension AuditEvent {
    init(row: Row) {
        self.init(
            id: row.uuid("id"),
            at: row["at"],
            type: Kind(rawValue: row["type"]),
            userID: (row["user_id"] as String?).flatMap(UUID.init(uuidString:)),
            sessionID: (row["session_id"] as String?).flatMap(UUID.init(uuidString:)),
            ip: row["ip"],
            userAgent: row["user_agent"],
            requestID: row["request_id"],
            details: AuditEvent.details(json: row["details"])
        )
    }
}
