import LatchkeyParsers
import Testing

/// The strict CBOR reader: RFC 8949 Appendix A's examples of the kinds WebAuthn uses, and a refusal for everything
/// else the issue names.
@Suite struct CBORTests {
    static func bytes(_ hex: String) -> [UInt8] {
        stride(from: 0, to: hex.count, by: 2).map {
            let start = hex.index(hex.startIndex, offsetBy: $0)
            return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
        }
    }

    @Test(arguments: [
        ("00", CBOR.integer(0)), ("01", .integer(1)), ("0a", .integer(10)), ("17", .integer(23)), ("1818", .integer(24)),
        ("1819", .integer(25)), ("1864", .integer(100)), ("1903e8", .integer(1000)), ("1a000f4240", .integer(1_000_000)),
        ("1b000000e8d4a51000", .integer(1_000_000_000_000)), ("1b7fffffffffffffff", .integer(.max)), ("20", .integer(-1)),
        ("29", .integer(-10)), ("3863", .integer(-100)), ("3903e7", .integer(-1000)), ("3b7fffffffffffffff", .integer(.min)),
        ("f4", .bool(false)), ("f5", .bool(true)), ("f6", .null),
        ("40", .bytes([])), ("4401020304", .bytes([1, 2, 3, 4])), ("60", .text("")), ("6161", .text("a")), ("6449455446", .text("IETF")),
        ("62225c", .text("\"\\")), ("62c3bc", .text("ü")), ("63e6b0b4", .text("水")), ("64f0908591", .text("𐅑")),
        ("80", .array([])), ("83010203", .array([.integer(1), .integer(2), .integer(3)])),
        ("8301820203820405", .array([.integer(1), .array([.integer(2), .integer(3)]), .array([.integer(4), .integer(5)])])),
        ("98190102030405060708090a0b0c0d0e0f101112131415161718181819", .array((1...25).map { .integer($0) })),
        ("a0", .map([:])), ("a201020304", .map([.integer(1): .integer(2), .integer(3): .integer(4)])),
        ("a26161016162820203", .map([.text("a"): .integer(1), .text("b"): .array([.integer(2), .integer(3)])])),
        ("826161a161626163", .array([.text("a"), .map([.text("b"): .text("c")])])),
    ])
    func readsRFC8949sExamples(hex: String, expected: CBOR) throws {
        #expect(try CBORReader.decode(Self.bytes(hex)) == expected)
    }

    @Test(arguments: [
        ("", "cut short"), ("19 01", "cut short"), ("1b ffffffffffffffff", "an integer beyond Int64"),
        ("3b ffffffffffffffff", "a negative integer beyond Int64"), ("1c", "a reserved length"), ("f7", "undefined"), ("f0", "a simple value"),
        ("f8 ff", "a simple value of two bytes"), ("f9 3c00", "a half float"), ("fa 47c35000", "a single float"),
        ("fb 3ff199999999999a", "a double"), ("c0 74 323031332d30332d32315432303a30343a30305a", "a tag"),
        ("5f 4201 02 4303 0405 ff", "indefinite bytes"), ("7f 6161 ff", "indefinite text"), ("9f ff", "an indefinite array"),
        ("bf 6161 01 ff", "an indefinite map"), ("62 c328", "text that is not UTF-8"), ("a2 01 02 01 03", "a key twice"),
        ("a1 40 00", "a byte-string key"), ("a1 80 00", "an array key"), ("00 00", "bytes after the item"),
        ("5a ffffffff 00", "a byte string longer than the input"), ("9b ffffffffffffffff", "more items than bytes"),
        ("bb 00000000ffffffff", "more entries than bytes"), ("82 01", "an array cut short"),
        ("8181818181818181 00", "nested nine deep"),
    ])
    func refuses(hex: String, what: String) {
        #expect(throws: CBORError.self, "\(what)") { try CBORReader.decode(Self.bytes(hex.filter { $0 != " " })) }
    }

    @Test func eightLevelsAreRead() throws {
        #expect(try CBORReader.decode(Self.bytes("81818181818181" + "00")) != .null)
    }

    @Test func anOffsetPastTheEndReadsNothing() {
        var reader = CBORReader([0x01], offset: 5)
        #expect(throws: CBORError.self) { try reader.read() }
    }

    @Test func anItemFollowedByOtherDataIsReadAlone() throws {
        var reader = CBORReader(Self.bytes("a1 01 02 ff ff".filter { $0 != " " }))
        #expect(try reader.read() == .map([.integer(1): .integer(2)]))
        #expect(reader.offset == 3)
    }
}
