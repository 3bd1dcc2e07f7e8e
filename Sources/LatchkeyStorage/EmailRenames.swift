import Foundation
import LatchkeyCore

/// Earlier versions stored emails trimmed and lower-cased only; now one normal form is stored (`EmailAddress`:
/// NFC, IDNA domain). These are the renames that bring stored rows to it, applied by a migration on each backend.
/// An address whose normal form another row already holds keeps its old form (two accounts never merge), and so
/// does one that is no longer a valid address.
enum EmailRenames {
    static func of<ID>(_ rows: [(id: ID, email: String)]) -> [(id: ID, email: String)] {
        // Bytes, not Strings: Swift compares strings by canonical equivalence, so an NFD and an NFC spelling
        // would count as the same and the NFD one would never be rewritten.
        var taken = Set(rows.map { Data($0.email.utf8) })
        var renames: [(id: ID, email: String)] = []
        for row in rows {
            guard let normal = EmailAddress.normalized(row.email), !taken.contains(Data(normal.utf8)) else { continue }
            taken.insert(Data(normal.utf8))
            renames.append((row.id, normal))
        }
        return renames
    }
}
