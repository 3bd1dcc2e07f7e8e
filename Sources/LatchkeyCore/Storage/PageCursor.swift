import Foundation

/// Page cursors of lists (sessions, users): the last listed row's id, base64url, so clients treat it as opaque.
/// Stores list rows in one total order and start after the cursor's row, so pages have no gaps or duplicates.
enum PageCursor {
    static func encode(_ id: UUID) -> String {
        Base64URL.encode(Data(id.uuidString.lowercased().utf8))
    }

    static func decode(_ cursor: String) -> UUID? {
        Base64URL.decode(cursor).flatMap { UUID(uuidString: String(decoding: $0, as: UTF8.self)) }
    }

    /// The row a `cursor` parameter starts after: nil for the first page (absent or empty). Throws a validation error
    /// for a cursor this server did not hand out.
    static func after(_ cursor: String?) throws -> UUID? {
        guard let cursor, !cursor.isEmpty else { return nil }
        guard let id = decode(cursor) else { throw unknown }
        return id
    }

    static let unknown = AuthError.validation(field: "cursor", "is not a cursor this server gave out")

    /// The first `limit` of `found` (fetched with `limit + 1`), and the cursor of the next page when there is one.
    static func page<Row>(_ found: [Row], limit: Int, id: (Row) -> UUID) -> ([Row], String?) {
        let page = Array(found.prefix(limit))
        return (page, found.count > limit ? page.last.map { encode(id($0)) } : nil)
    }
}
