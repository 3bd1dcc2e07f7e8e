import Crypto
import Foundation

/// Seals the private keys of signing keys for the database and opens them again (AES-GCM under a key derived from
/// the KEK, the `kid` authenticated): a copy of the database without the KEK cannot mint tokens. A sealed key is stored
/// as `sealed:v1:` and the base64 of the sealed box, in the same column that held keys in the clear before.
public struct SigningKeySealer: Sendable {
    static let prefix = "sealed:v1:"
    private let sealer: SecretSealer

    public init(keyEncryptionKey: KeyEncryptionKey) {
        sealer = SecretSealer(keyEncryptionKey: keyEncryptionKey, purpose: "signing key")
    }

    public func isSealed(_ key: SigningKey) -> Bool {
        key.privateKey.hasPrefix(Self.prefix)
    }

    public func seal(_ signingKey: SigningKey) throws -> SigningKey {
        var sealed = signingKey
        sealed.privateKey = Self.prefix + (try sealer.seal(Data(signingKey.privateKey.utf8), owner: signingKey.kid)).base64EncodedString()
        return sealed
    }

    /// Throws a `ConfigurationError` when the key was sealed under another KEK (or tampered with).
    public func open(_ signingKey: SigningKey) throws -> SigningKey {
        var opened = signingKey
        do {
            guard let combined = Data(base64Encoded: String(signingKey.privateKey.dropFirst(Self.prefix.count))) else {
                throw CryptoKitError.incorrectParameterSize
            }
            let material = try sealer.open(combined, owner: signingKey.kid)
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
