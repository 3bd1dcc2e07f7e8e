import Crypto
import Foundation

/// The ten single-use codes that stand in for the second factor when the phone is gone. Each is 15 random lower-case
/// letters and digits, written `xxxxx-xxxxx-xxxxx` (77 bits), and is stored only as a keyed hash (HMAC-SHA-256 with a
/// key derived from the KEK): a copy of the database cannot test guesses without the KEK.
public struct RecoveryCodes: Sendable {
    public static let count = 10
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
    private static let length = 15
    private let key: SymmetricKey

    public init(keyEncryptionKey: KeyEncryptionKey) {
        key = keyEncryptionKey.derivedKey(for: "recovery codes")
    }

    /// Ten new codes, to show once, and the hashes to store.
    public func generate() -> (codes: [String], hashes: [String]) {
        var generator = SystemRandomNumberGenerator()
        let codes = (0..<Self.count).map { _ in
            let characters = (0..<Self.length).map { _ in Self.alphabet.randomElement(using: &generator)! }
            return stride(from: 0, to: Self.length, by: 5).map { String(characters[$0..<$0 + 5]) }.joined(separator: "-")
        }
        return (codes, codes.map { hash($0)! })
    }

    /// The hash a typed code is stored under: in any case, with or without its hyphens and spaces. Nil for what
    /// cannot be a code.
    public func hash(_ typed: String) -> String? {
        let normalized = typed.lowercased().filter { $0 != "-" && !$0.isWhitespace }
        guard normalized.count == Self.length, normalized.allSatisfy(Self.alphabet.contains) else { return nil }
        return Base64URL.encode(Data(HMAC<SHA256>.authenticationCode(for: Data(normalized.utf8), using: key)))
    }
}
