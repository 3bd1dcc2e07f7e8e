import Foundation

/// Email addresses in the one form they are stored and compared in, so one mailbox is one account.
///
/// An address is an RFC 5321 mailbox in dot-atom form: a local part of at most 64 bytes made of atoms
/// separated by single dots (no `<>()[]\,;:"`, spaces, controls or format characters; other non-ASCII characters
/// are allowed, RFC 6531),
/// `@`, and a domain of at least two labels; the whole at most 254 bytes. The stored form is trimmed,
/// Unicode NFC, lower-cased, with the domain IDNA-encoded (`u@bücher.example` is stored as
/// `u@xn--bcher-kva.example`), so every spelling of one mailbox finds the same row.
public enum EmailAddress {
    /// The stored form of `raw`, or nil when it is not a mailbox this server accepts.
    public static func normalized(_ raw: String) -> String? {
        let address = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased().nfc
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, isDotAtom(parts[0]), parts[0].utf8.count <= 64, let domain = asciiDomain(String(parts[1])) else {
            return nil
        }
        let normalized = "\(parts[0])@\(domain)"
        return normalized.utf8.count <= 254 ? normalized : nil
    }

    /// The form to look an account up by: the normal form, or for an address that has none, the form earlier versions
    /// stored (trimmed and lower-cased), so that an account registered before the rules tightened still signs in.
    public static func lookupForm(_ raw: String) -> String {
        normalized(raw) ?? raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// The characters RFC 5322 allows in an atom besides letters and digits.
    private static let atomSymbols = Set("!#$%&'*+-/=?^_`{|}~".unicodeScalars)

    private static func isDotAtom(_ local: Substring) -> Bool {
        let atoms = local.split(separator: ".", omittingEmptySubsequences: false)
        return atoms.allSatisfy { atom in
            !atom.isEmpty
                && atom.unicodeScalars.allSatisfy { scalar in
                    scalar.isASCII
                        ? (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || atomSymbols.contains(scalar))
                        : !scalar.isControlOrSeparator && scalar.properties.generalCategory != .spaceSeparator
                }
        }
    }

    /// The domain as lower-case LDH labels, IDNA-encoded where it is not ASCII; nil when it is not a host name.
    static func asciiDomain(_ domain: String) -> String? {
        // Foundation's URL code applies IDNA (UTS 46) to a host: `bücher.example` → `xn--bcher-kva.example`.
        var components = URLComponents()
        components.host = domain
        guard let encoded = components.encodedHost else { return nil }
        let labels = encoded.lowercased().split(separator: ".", omittingEmptySubsequences: false)
        let isLDH = { (label: Substring) in
            (1...63).contains(label.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        }
        guard labels.count >= 2, labels.allSatisfy(isLDH), !labels.last!.allSatisfy(\.isNumber) else { return nil }
        return labels.joined(separator: ".")
    }
}

extension String {
    /// Unicode Normalization Form C: one byte sequence for canonically equal text.
    public var nfc: String { precomposedStringWithCanonicalMapping }
}

extension Unicode.Scalar {
    /// Controls, format characters (such as U+200E, U+FEFF) and line or paragraph separators (U+2028, U+2029):
    /// characters that change how text is laid out or read rather than what it says.
    var isControlOrSeparator: Bool {
        switch properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: true
        default: false
        }
    }
}
