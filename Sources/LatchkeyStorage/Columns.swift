/// Column lists of the schema both backends share, for statements that must name their columns: a prepared
/// `SELECT *` fails once a migration adds a column, and a join of users and sessions has to rename one side.
enum Columns {
    static let users = ["id", "email", "password_hash", "name", "role", "email_verified", "created_at", "updated_at", "deleted_at", "disabled_at"]
    static let sessions = ["id", "user_id", "created_at", "last_used_at", "expires_at", "user_agent", "ip", "revoked_at", "amr", "auth_time"]

    /// `alias.column AS prefix_column, …`, the form `User(row:prefix:)` reads.
    static func select(_ columns: [String], from alias: String, prefix: String = "") -> String {
        columns.map { "\(alias).\($0) AS \(prefix)\($0)" }.joined(separator: ", ")
    }
}
