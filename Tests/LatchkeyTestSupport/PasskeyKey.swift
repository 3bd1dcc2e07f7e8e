import Crypto
import CryptoExtras
import LatchkeyCore
import LatchkeyParsers

/// A passkey's key pair as a software authenticator holds it: its COSE public key and its WebAuthn signatures
/// (DER-encoded ECDSA for ES256, PKCS #1 v1.5 with SHA-256 for RS256).
public struct PasskeyKey: Sendable {
    public let algorithm: COSEAlgorithm
    private let key: PrivateKey

    private enum PrivateKey: Sendable {
        case p256(P256.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
        case rsa(_RSA.Signing.PrivateKey)
    }

    public init(_ algorithm: COSEAlgorithm) throws {
        self.algorithm = algorithm
        key =
            switch algorithm {
            case .es256: .p256(P256.Signing.PrivateKey())
            case .edDSA: .ed25519(Curve25519.Signing.PrivateKey())
            case .rs256: .rsa(try _RSA.Signing.PrivateKey(keySize: .bits2048))
            }
    }

    /// The public key as a COSE map (RFC 9052, RFC 9053, RFC 8230).
    public var cose: CBOR {
        get throws {
            switch key {
            case .p256(let key):
                let point = Array(key.publicKey.rawRepresentation)
                return .map([
                    .integer(1): .integer(2), .integer(3): .integer(-7), .integer(-1): .integer(1),
                    .integer(-2): .bytes(Array(point[..<32])), .integer(-3): .bytes(Array(point[32...])),
                ])
            case .ed25519(let key):
                return .map([
                    .integer(1): .integer(1), .integer(3): .integer(-8), .integer(-1): .integer(6),
                    .integer(-2): .bytes(Array(key.publicKey.rawRepresentation)),
                ])
            case .rsa(let key):
                let primitives = try key.publicKey.getKeyPrimitives()
                return .map([
                    .integer(1): .integer(3), .integer(3): .integer(-257),
                    .integer(-1): .bytes(Array(primitives.modulus)), .integer(-2): .bytes(Array(primitives.publicExponent)),
                ])
            }
        }
    }

    public func signature(for data: [UInt8]) throws -> [UInt8] {
        switch key {
        case .p256(let key): Array(try key.signature(for: data).derRepresentation)
        case .ed25519(let key): Array(try key.signature(for: data))
        case .rsa(let key): Array(try key.signature(for: data, padding: .insecurePKCS1v1_5).rawRepresentation)
        }
    }
}

/// Authenticator data laid out as WebAuthn Level 3 § 6.1 has it, with fields set at will.
public func authenticatorData(
    rpIDHash: [UInt8],
    flags: AuthenticatorData.Flags,
    signCount: UInt32,
    credential: (aaguid: [UInt8], id: [UInt8], key: [UInt8])? = nil,
    extensions: [UInt8] = []
) -> [UInt8] {
    var bytes = rpIDHash + [flags.rawValue] + CBOREncoder.bigEndian(UInt64(signCount), width: 4)
    if let credential {
        bytes += credential.aaguid + CBOREncoder.bigEndian(UInt64(credential.id.count), width: 2) + credential.id + credential.key
    }
    return bytes + extensions
}
