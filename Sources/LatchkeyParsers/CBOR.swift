/// A CBOR data item (RFC 8949) of the kinds WebAuthn sends: integers, byte and text strings, arrays, maps keyed by
/// integers or text, booleans and null.
public enum CBOR: Sendable, Hashable {
    case integer(Int64)
    case bytes([UInt8])
    case text(String)
    case array([CBOR])
    case map([MapKey: CBOR])
    case bool(Bool)
    case null

    public enum MapKey: Sendable, Hashable {
        case integer(Int64)
        case text(String)
    }

    public subscript(key: MapKey) -> CBOR? {
        guard case .map(let entries) = self else { return nil }
        return entries[key]
    }

    public subscript(key: Int64) -> CBOR? { self[.integer(key)] }
    public subscript(key: String) -> CBOR? { self[.text(key)] }

    public var integer: Int64? { if case .integer(let value) = self { value } else { nil } }
    public var bytes: [UInt8]? { if case .bytes(let value) = self { value } else { nil } }
    public var text: String? { if case .text(let value) = self { value } else { nil } }
}

/// Why an input is not CBOR that Latchkey reads (the server answers `PASSKEY_INVALID`), or not the data WebAuthn
/// lays out in it.
public struct CBORError: Error, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// A strict reader: definite lengths only, no tags, no floating-point or other simple values, map keys of integers or
/// text without duplicates, valid UTF-8, integers that fit an `Int64`, nesting at most `maxDepth` deep. Lengths are
/// checked against the bytes left before anything is allocated, so a short input cannot ask for a large buffer.
public struct CBORReader {
    public static let maxDepth = 8

    private let input: [UInt8]
    /// Where the next item starts.
    public private(set) var offset: Int

    /// Reads from `offset` (kept within the input).
    public init(_ input: some Collection<UInt8>, offset: Int = 0) {
        self.input = Array(input)
        self.offset = min(max(offset, 0), self.input.count)
    }

    /// The one item that `input` holds, refusing bytes after it.
    public static func decode(_ input: some Collection<UInt8>) throws(CBORError) -> CBOR {
        var reader = CBORReader(input)
        let item = try reader.read()
        guard reader.offset == reader.input.count else { throw CBORError("bytes after the CBOR item") }
        return item
    }

    /// The item at `offset`, moving past it: for an item followed by other data, as in authenticator data.
    public mutating func read() throws(CBORError) -> CBOR {
        try item(depth: 0)
    }

    private mutating func item(depth: Int) throws(CBORError) -> CBOR {
        guard depth < Self.maxDepth else { throw CBORError("CBOR nested more than \(Self.maxDepth) deep") }
        let initial = try byte()
        let major = initial >> 5
        let info = initial & 0x1F
        if major == 7 {
            switch info {
            case 20: return .bool(false)
            case 21: return .bool(true)
            case 22: return .null
            default: throw CBORError("a CBOR simple or floating-point value other than false, true or null")
            }
        }
        let argument = try self.argument(info)
        switch major {
        case 0:
            guard argument <= UInt64(Int64.max) else { throw CBORError("a CBOR integer out of range") }
            return .integer(Int64(argument))
        case 1:
            guard argument <= UInt64(Int64.max) else { throw CBORError("a CBOR integer out of range") }
            return .integer(-1 - Int64(argument))
        case 2:
            return .bytes(try take(argument))
        case 3:
            guard let text = String(validating: try take(argument), as: UTF8.self) else { throw CBORError("CBOR text that is not UTF-8") }
            return .text(text)
        case 4:
            // Every item takes at least one byte: a count beyond the bytes left cannot be honest.
            let count = try count(argument, bytesPerItem: 1)
            var items: [CBOR] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try item(depth: depth + 1)) }
            return .array(items)
        case 5:
            let count = try count(argument, bytesPerItem: 2)
            var entries: [CBOR.MapKey: CBOR] = [:]
            entries.reserveCapacity(count)
            for _ in 0..<count {
                let key: CBOR.MapKey =
                    switch try item(depth: depth + 1) {
                    case .integer(let value): .integer(value)
                    case .text(let value): .text(value)
                    default: throw CBORError("a CBOR map key that is neither an integer nor text")
                    }
                guard entries.updateValue(try item(depth: depth + 1), forKey: key) == nil else {
                    throw CBORError("a CBOR map with a key twice")
                }
            }
            return .map(entries)
        default:
            throw CBORError("a CBOR tag")
        }
    }

    /// The argument that follows the initial byte: in the byte itself below 24, else in the next 1, 2, 4 or 8 bytes.
    /// 31 (an indefinite length) and 28-30 (reserved) are refused.
    private mutating func argument(_ info: UInt8) throws(CBORError) -> UInt64 {
        let width: Int
        switch info {
        case 0..<24: return UInt64(info)
        case 24: width = 1
        case 25: width = 2
        case 26: width = 4
        case 27: width = 8
        case 31: throw CBORError("a CBOR item of indefinite length")
        default: throw CBORError("a reserved CBOR length")
        }
        return try take(UInt64(width)).reduce(0) { $0 << 8 | UInt64($1) }
    }

    private func count(_ argument: UInt64, bytesPerItem: UInt64) throws(CBORError) -> Int {
        guard argument <= UInt64(input.count - offset) / bytesPerItem else { throw CBORError("a CBOR length beyond the input") }
        return Int(argument)
    }

    private mutating func byte() throws(CBORError) -> UInt8 {
        guard offset < input.count else { throw CBORError("CBOR cut short") }
        defer { offset += 1 }
        return input[offset]
    }

    private mutating func take(_ length: UInt64) throws(CBORError) -> [UInt8] {
        guard length <= UInt64(input.count - offset) else { throw CBORError("a CBOR length beyond the input") }
        let end = offset + Int(length)
        defer { offset = end }
        return Array(input[offset..<end])
    }
}
