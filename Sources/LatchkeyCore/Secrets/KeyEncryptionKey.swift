import Configuration
import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The key-encryption key (KEK): the one secret kept outside the database, from which the keys that seal
/// secrets stored in it are derived (pending mail bodies, private signing keys). A database dump without it
/// reveals no live token.
///
/// Keys (under `latchkey.`): `keyEncryptionKey` (secret: 32 bytes, base64), `keyEncryptionKeyFile` (a file holding that).
public struct KeyEncryptionKey: Sendable {
    let key: SymmetricKey

    public init(_ key: SymmetricKey) {
        self.key = key
    }

    /// A random key, for a database that lives only in memory.
    public static func ephemeral() -> KeyEncryptionKey {
        KeyEncryptionKey(SymmetricKey(size: .bits256))
    }

    /// The configured key, nil when neither key nor file is set.
    public static func configured(reader: ConfigReader) throws -> KeyEncryptionKey? {
        if let text = reader.text("keyEncryptionKey", isSecret: true) {
            guard reader.text("keyEncryptionKeyFile") == nil else {
                throw ConfigurationError(
                    key: "keyEncryptionKeyFile",
                    "must not be set together with LATCHKEY_KEY_ENCRYPTION_KEY: which one is meant?"
                )
            }
            guard let key = decode(text) else { throw ConfigurationError(key: "keyEncryptionKey", "must be 32 bytes in base64") }
            return key
        }
        guard let path = reader.text("keyEncryptionKeyFile") else { return nil }
        guard let contents = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(key: "keyEncryptionKeyFile", "names a file that cannot be read: '\(path)'")
        }
        guard let key = decode(String(decoding: contents, as: UTF8.self)) else {
            throw ConfigurationError(key: "keyEncryptionKeyFile", "must name a file holding 32 bytes in base64: '\(path)'")
        }
        return key
    }

    /// The key in the file at `path`, created (mode 0600) when there is none. Processes starting together
    /// agree on one key: the file appears whole, by a hard link that only one of them can make.
    public static func loadOrCreate(file path: String) throws -> KeyEncryptionKey {
        let files = FileManager.default
        if !files.fileExists(atPath: path) {
            let fresh = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() } + "\n"
            let temporary = "\(path).\(UUID().uuidString).tmp"
            // Created with mode 0600, never readable by others for a moment.
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            guard descriptor >= 0, write(descriptor, fresh, fresh.utf8.count) == fresh.utf8.count, close(descriptor) == 0 else {
                throw ConfigurationError("LATCHKEY_KEY_ENCRYPTION_KEY_FILE: cannot create a key file beside the database at '\(path)'.")
            }
            defer { try? files.removeItem(atPath: temporary) }
            try? files.linkItem(atPath: temporary, toPath: path)
        }
        guard let contents = files.contents(atPath: path), let key = decode(String(decoding: contents, as: UTF8.self)) else {
            throw ConfigurationError("LATCHKEY_KEY_ENCRYPTION_KEY_FILE: the key file '\(path)' cannot be read or does not hold 32 bytes in base64.")
        }
        return key
    }

    private static func decode(_ text: String) -> KeyEncryptionKey? {
        guard let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else { return nil }
        return KeyEncryptionKey(SymmetricKey(data: bytes))
    }

    /// A key for one purpose, so that no two uses share a key.
    func derivedKey(for purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data("latchkey \(purpose)".utf8), outputByteCount: 32)
    }
}
