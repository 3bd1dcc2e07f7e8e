/// The tables of single-use challenges, which the cleanup empties the same way on both backends.
enum ChallengeTable: String {
    case mfa = "mfa_challenges"
    case passkey = "passkey_challenges"

    var key: String {
        switch self {
        case .mfa: "token_hash"
        case .passkey: "hash"
        }
    }

    /// Deletes up to `$2` challenges that expired or were used before `$1`; PostgreSQL's batches skip rows another
    /// instance's cleanup holds.
    func deleteEndedSQL(postgres: Bool) -> String {
        """
        DELETE FROM \(rawValue) WHERE \(key) IN (
            SELECT \(key) FROM \(rawValue) WHERE expires_at < $1 OR used_at < $1 LIMIT $2\(postgres ? " FOR UPDATE SKIP LOCKED" : "")
        )
        """
    }
}
