import LatchkeyParsers

/// CBOR's encoding (RFC 8949), for what a software authenticator in the tests sends: map keys in the canonical order
/// of CTAP2 (shorter encodings first, then bytewise), integers in their shortest form.
public enum CBOREncoder {
    public static func encode(_ item: CBOR) -> [UInt8] {
        switch item {
        case .integer(let value) where value >= 0: head(0, UInt64(value))
        case .integer(let value): head(1, UInt64(-1 - value))
        case .bytes(let bytes): head(2, UInt64(bytes.count)) + bytes
        case .text(let text): head(3, UInt64(text.utf8.count)) + Array(text.utf8)
        case .array(let items): head(4, UInt64(items.count)) + items.flatMap(encode)
        case .map(let entries):
            head(5, UInt64(entries.count))
                + entries.map { (key: encode(key: $0.key), value: encode($0.value)) }
                .sorted { $0.key.count != $1.key.count ? $0.key.count < $1.key.count : $0.key.lexicographicallyPrecedes($1.key) }
                .flatMap { $0.key + $0.value }
        case .bool(let value): [value ? 0xF5 : 0xF4]
        case .null: [0xF6]
        }
    }

    static func encode(key: CBOR.MapKey) -> [UInt8] {
        switch key {
        case .integer(let value): encode(.integer(value))
        case .text(let text): encode(.text(text))
        }
    }

    /// A major type and its argument, in the fewest bytes.
    public static func head(_ major: UInt8, _ argument: UInt64) -> [UInt8] {
        let type = major << 5
        switch argument {
        case 0..<24: return [type | UInt8(argument)]
        case 24...0xFF: return [type | 24, UInt8(argument)]
        case 0x100...0xFFFF: return [type | 25] + bigEndian(argument, width: 2)
        case 0x1_0000...0xFFFF_FFFF: return [type | 26] + bigEndian(argument, width: 4)
        default: return [type | 27] + bigEndian(argument, width: 8)
        }
    }

    static func bigEndian(_ value: UInt64, width: Int) -> [UInt8] {
        (0..<width).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}
