import Crypto
import Foundation

/// Seals the private keys of signing keys for the database and opens them again (AES-GCM under a key derived from
/// the KEK, the `kid` authenticated): a copy of the database without the KEK cannot mint tokens. A sealed key is stored
/// as `sealed:v1:` and the base64 of the sealed box, in the same column that held keys in the clear before.
public struct SigningKeySealer: Sendable {
    static let prefix = "sealed:v1:"
    private let key: SymmetricKey

    public init(keyEncryptionKey: KeyEncryptionKey) {
        key = keyEncryptionKey.derivedKey(for: "signing key")
    }

    public func isSealed(_ key: SigningKey) -> Bool {
        key.privateKey.hasPrefix(Self.prefix)
    }

    public func seal(_ signingKey: SigningKey) throws -> SigningKey {
        var sealed = signingKey
        let box = try AES.GCM.seal(Data(signingKey.privateKey.utf8), using: key, authenticating: Data(signingKey.kid.utf8))
        sealed.privateKey = Self.prefix + box.combined!.base64EncodedString()
        return sealed
    }

    /// Throws a `ConfigurationError` when the key was sealed under another KEK (or tampered with).
    public func open(_ signingKey: SigningKey) throws -> SigningKey {
        var opened = signingKey
        do {
            guard let combined = Data(base64Encoded: String(signingKey.privateKey.dropFirst(Self.prefix.count))) else {
                throw CryptoKitError.incorrectParameterSize
            }
            let material = try AES.GCM.open(AES.GCM.SealedBox(combined: combined), using: key, authenticating: Data(signingKey.kid.utf8))
            opened.privateKey = String(decoding: material, as: UTF8.self)
        } catch {
            throw ConfigurationError(
                "The signing key \(signingKey.kid) in the database does not open with this key-encryption key (LATCHKEY_KEY_ENCRYPTION_KEY, "
                    + "LATCHKEY_KEY_ENCRYPTION_KEY_FILE or the key file beside the SQLite database): use the key the database was made with."
            )
        }
        return opened
    }
}
