import Foundation
import LatchkeyParsers

/// The authenticator data of a WebAuthn response (WebAuthn Level 3 § 6.1): what the authenticator signs, with the
/// new credential when it registers one.
public struct AuthenticatorData: Sendable {
    public static let maxCredentialIDLength = 1023

    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        public static let userPresent = Flags(rawValue: 0x01)
        public static let userVerified = Flags(rawValue: 0x04)
        public static let backupEligible = Flags(rawValue: 0x08)
        public static let backedUp = Flags(rawValue: 0x10)
        public static let attestedCredentialData = Flags(rawValue: 0x40)
        public static let extensionData = Flags(rawValue: 0x80)
    }

    /// The credential a registration creates.
    public struct AttestedCredential: Sendable {
        /// Lower-case; all zeros when the authenticator names no model.
        public let aaguid: UUID
        public let id: [UInt8]
        /// The key's CBOR encoding as the authenticator gave it: what is stored.
        public let publicKeyCBOR: [UInt8]
        public let publicKey: COSEKey
    }

    public let rpIDHash: [UInt8]
    public let flags: Flags
    public let signCount: UInt32
    public let credential: AttestedCredential?

    /// Reads and checks the layout: the attested credential present exactly when its flag is, extensions a CBOR map
    /// exactly when theirs is, nothing after them, a backed-up credential backup-eligible.
    public init(_ bytes: [UInt8]) throws(CBORError) {
        guard bytes.count >= 37 else { throw CBORError("authenticator data shorter than 37 bytes") }
        rpIDHash = Array(bytes[0..<32])
        flags = Flags(rawValue: bytes[32])
        signCount = bytes[33..<37].reduce(0) { $0 << 8 | UInt32($1) }
        if flags.contains(.backedUp) && !flags.contains(.backupEligible) {
            throw CBORError("authenticator data backed up but not backup-eligible")
        }
        var offset = 37
        if flags.contains(.attestedCredentialData) {
            // aaguid (16), credential id length (2), credential id, then the COSE key.
            guard bytes.count >= offset + 18 else { throw CBORError("attested credential data cut short") }
            let aaguid = UUID(uuid: Self.uuidBytes(bytes[offset..<offset + 16]))
            let length = Int(bytes[offset + 16]) << 8 | Int(bytes[offset + 17])
            offset += 18
            guard length > 0, length <= Self.maxCredentialIDLength else {
                throw CBORError("a credential id of \(length) bytes (1 to \(Self.maxCredentialIDLength) allowed)")
            }
            guard bytes.count >= offset + length else { throw CBORError("a credential id cut short") }
            let id = Array(bytes[offset..<offset + length])
            offset += length
            var reader = CBORReader(bytes, offset: offset)
            let key = try reader.read()
            let keyCBOR = Array(bytes[offset..<reader.offset])
            offset = reader.offset
            credential = AttestedCredential(aaguid: aaguid, id: id, publicKeyCBOR: keyCBOR, publicKey: try COSEKey(cbor: key))
        } else {
            credential = nil
        }
        if flags.contains(.extensionData) {
            var reader = CBORReader(bytes, offset: offset)
            guard case .map = try reader.read() else { throw CBORError("authenticator extensions that are not a CBOR map") }
            offset = reader.offset
        }
        guard offset == bytes.count else { throw CBORError("bytes after the authenticator data") }
    }

    /// The authenticator data of a registration's attestation object. The statement is not verified (the options ask
    /// for none), only its shape: a map with `fmt`, `attStmt` and `authData`.
    public init(attestationObject: [UInt8]) throws(CBORError) {
        let object = try CBORReader.decode(attestationObject)
        guard object["fmt"]?.text != nil, case .map? = object["attStmt"], let authenticatorData = object["authData"]?.bytes else {
            throw CBORError("an attestation object without fmt, attStmt and authData")
        }
        try self.init(authenticatorData)
    }

    private static func uuidBytes(_ bytes: ArraySlice<UInt8>) -> uuid_t {
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &uuid) { $0.copyBytes(from: bytes) }
        return uuid
    }
}
