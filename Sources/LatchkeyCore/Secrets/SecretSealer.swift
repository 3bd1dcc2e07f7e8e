import Crypto
import Foundation

/// Seals secrets for the database and opens them again: AES-GCM under a key derived from the KEK for one purpose,
/// with the owning row's id authenticated, so that a copy of the database without the KEK reads nothing, and a sealed
/// value moved to another row, or to another purpose, does not open.
public struct SecretSealer: Sendable {
    private let key: SymmetricKey

    public init(keyEncryptionKey: KeyEncryptionKey, purpose: String) {
        key = keyEncryptionKey.derivedKey(for: purpose)
    }

    public func seal(_ secret: Data, owner: String) throws -> Data {
        try AES.GCM.seal(secret, using: key, authenticating: Data(owner.utf8)).combined!
    }

    /// Throws when the value was sealed under another KEK, for another owner, or was changed.
    public func open(_ sealed: Data, owner: String) throws -> Data {
        try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key, authenticating: Data(owner.utf8))
    }
}
