import Testing

@testable import LatchkeyCore

/// The one stored form of a mailbox, and what is not a mailbox at all.
@Suite struct EmailAddressTests {
    @Test(arguments: [
        ("  Ada@Example.COM ", "ada@example.com"),
        ("o'brien+tag@example.com", "o'brien+tag@example.com"),
        ("a.b.c@sub.example.co.uk", "a.b.c@sub.example.co.uk"),
        ("u@bücher.example", "u@xn--bcher-kva.example"),
        ("u@BÜCHER.example", "u@xn--bcher-kva.example"),
        ("u@xn--bcher-kva.example", "u@xn--bcher-kva.example"),
        ("u@例え.テスト", "u@xn--r8jz45g.xn--zckzah"),
        ("jo\u{0308}rg@example.com", "j\u{00F6}rg@example.com"),
        ("J\u{00D6}RG@example.com", "j\u{00F6}rg@example.com"),
    ])
    func normalises(raw: String, stored: String) {
        let normalized = EmailAddress.normalized(raw)
        #expect(normalized == stored)
        // Byte for byte, not only canonically equal (Swift's == would call NFD and NFC the same).
        #expect(normalized.map { Array($0.utf8) } == Array(stored.utf8))
    }

    @Test(arguments: [
        "", "plain", "@example.com", "a@", "a@@example.com", "a@b@example.com", "<script>@x.test", "a b@x.test", "a..b@x.test", ".a@x.test",
        "a.@x.test", "a(b)@x.test", "\"a\"@x.test", "a,b@x.test", "a;b@x.test", "a:b@x.test", "a\\b@x.test", "a[b]@x.test", "a<b>@x.test",
        "a@localhost", "a@[127.0.0.1]", "a@-x.test", "a@x-.test", "a@x_y.test", "a@x..test", "a@.x.test", "a@x.test.", "a@x.123",
        "a\u{0000}b@x.test", "a\u{2028}b@x.test", "a\u{00A0}b@x.test", "a\u{200E}b@x.test", "a@exa mple.com", "a@ex%41.com",
    ])
    func refuses(raw: String) {
        #expect(EmailAddress.normalized(raw) == nil, "\(raw)")
    }

    @Test func lengthLimits() {
        let local64 = String(repeating: "a", count: 64)
        #expect(EmailAddress.normalized(local64 + "@example.com") != nil)
        #expect(EmailAddress.normalized(local64 + "a@example.com") == nil)
        // 32 two-byte letters are 64 bytes; 33 are too many, although only 33 characters.
        #expect(EmailAddress.normalized(String(repeating: "é", count: 32) + "@example.com") != nil)
        #expect(EmailAddress.normalized(String(repeating: "é", count: 33) + "@example.com") == nil)
        let label = String(repeating: "b", count: 60)
        let domain = [label, label, label, label].joined(separator: ".") + ".abcdefg"  // 251 bytes
        #expect(EmailAddress.normalized("ab@" + domain) != nil)  // 254 bytes
        #expect(EmailAddress.normalized("abc@" + domain) == nil)  // 255 bytes
        #expect(EmailAddress.normalized("a@" + String(repeating: "c", count: 64) + ".com") == nil, "a label is at most 63")
    }
}
