import Foundation
import LatchkeyAPI

/// What a new password must be: 8+ characters with a letter, a digit and a symbol; at most 72 UTF-8 bytes
/// and no NUL or control characters (bcrypt silently truncates at both, so such passwords are refused
/// rather than weakened); and not one of the 10,000 most common passwords.
public struct PasswordPolicy: Sendable {
    private let commonPasswords: Set<String>

    public init() {
        let url = Bundle.module.url(forResource: "common-passwords", withExtension: "txt")
        let text = url.flatMap { try? String(contentsOf: $0, encoding: .utf8) } ?? ""
        commonPasswords = Set(text.split(whereSeparator: \.isNewline).map { $0.lowercased() })
        precondition(commonPasswords.count > 1000, "the common-passwords resource is missing")
    }

    /// The problems with `password`, as messages for the given field; empty when it is acceptable.
    /// The checks apply to the NFC form, the one that is hashed.
    public func problems(with password: String, field: String) -> [FieldError] {
        let password = password.nfc
        var messages: [String] = []
        if password.count < 8 { messages.append("must be at least 8 characters") }
        if password.utf8.count > 72 { messages.append("must be at most 72 bytes in UTF-8") }
        if password.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) }) {
            messages.append("must not contain NUL or control characters")
        }
        if !password.contains(where: \.isLetter) { messages.append("must contain a letter") }
        if !password.contains(where: \.isNumber) { messages.append("must contain a digit") }
        if !password.contains(where: { !$0.isLetter && !$0.isNumber && !$0.isWhitespace }) {
            messages.append("must contain a symbol")
        }
        if commonPasswords.contains(password.lowercased()) { messages.append("is too common") }
        return messages.map { FieldError(field: field, message: $0) }
    }
}
