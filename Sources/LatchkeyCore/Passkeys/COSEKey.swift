import Crypto
import CryptoExtras
import Foundation
import LatchkeyParsers

/// The signature algorithms a passkey may use, by their COSE numbers: the `pubKeyCredParams` of creation options, in
/// the order offered.
public enum COSEAlgorithm: Int64, Sendable, CaseIterable {
    case edDSA = -8
    case es256 = -7
    case rs256 = -257
}

/// A credential public key (RFC 9052 § 7, RFC 9053): EC2 P-256 with ES256, OKP Ed25519 with EdDSA, or RSA (2048 bits
/// or more) with RS256. The key type, curve and algorithm must agree, and the coordinates have their exact sizes.
public struct COSEKey: Sendable {
    public let algorithm: COSEAlgorithm
    private let key: PublicKey

    private enum PublicKey: Sendable {
        case p256(P256.Signing.PublicKey)
        case ed25519(Curve25519.Signing.PublicKey)
        case rsa(_RSA.Signing.PublicKey)
    }

    // The labels of RFC 9052 § 7.1 and RFC 9053 § 7 / RFC 8230 § 4.
    private enum Label {
        static let keyType: Int64 = 1
        static let algorithm: Int64 = 3
        static let curve: Int64 = -1
        static let x: Int64 = -2
        static let y: Int64 = -3
        static let modulus: Int64 = -1
        static let exponent: Int64 = -2
    }

    private enum KeyType {
        static let okp: Int64 = 1
        static let ec2: Int64 = 2
        static let rsa: Int64 = 3
    }

    private enum Curve {
        static let p256: Int64 = 1
        static let ed25519: Int64 = 6
    }

    /// Reads the CBOR encoding of a COSE key, as found in authenticator data.
    public init(cbor: CBOR) throws(CBORError) {
        guard case .map = cbor else { throw CBORError("a COSE key that is not a CBOR map") }
        guard let number = cbor[Label.algorithm]?.integer, let algorithm = COSEAlgorithm(rawValue: number) else {
            throw CBORError("a COSE key of an algorithm other than EdDSA, ES256 or RS256")
        }
        let keyType = cbor[Label.keyType]?.integer
        self.algorithm = algorithm
        do {
            switch algorithm {
            case .es256:
                guard keyType == KeyType.ec2, cbor[Label.curve]?.integer == Curve.p256 else {
                    throw CBORError("an ES256 COSE key that is not an EC2 key on P-256")
                }
                guard let x = cbor[Label.x]?.bytes, let y = cbor[Label.y]?.bytes, x.count == 32, y.count == 32 else {
                    throw CBORError("a P-256 COSE key without 32-byte x and y coordinates")
                }
                key = .p256(try P256.Signing.PublicKey(rawRepresentation: x + y))
            case .edDSA:
                guard keyType == KeyType.okp, cbor[Label.curve]?.integer == Curve.ed25519 else {
                    throw CBORError("an EdDSA COSE key that is not an OKP key on Ed25519")
                }
                guard let x = cbor[Label.x]?.bytes, x.count == 32 else { throw CBORError("an Ed25519 COSE key without a 32-byte x") }
                key = .ed25519(try Curve25519.Signing.PublicKey(rawRepresentation: x))
            case .rs256:
                guard keyType == KeyType.rsa else { throw CBORError("an RS256 COSE key that is not an RSA key") }
                guard let n = cbor[Label.modulus]?.bytes, let e = cbor[Label.exponent]?.bytes, !n.isEmpty, !e.isEmpty else {
                    throw CBORError("an RSA COSE key without its modulus and exponent")
                }
                key = .rsa(try _RSA.Signing.PublicKey(n: n, e: e))
            }
        } catch let error as CBORError {
            throw error
        } catch {
            // swift-crypto refused the point or the modulus (not on the curve, shorter than 2,048 bits).
            throw CBORError("a COSE key that is not a valid \(algorithm) public key")
        }
    }

    /// Whether `signature` is this key's over `data`: DER-encoded ECDSA for ES256, PKCS #1 v1.5 with SHA-256 for
    /// RS256, as WebAuthn has them.
    public func isValidSignature(_ signature: [UInt8], for data: [UInt8]) -> Bool {
        switch key {
        case .p256(let key):
            guard let signature = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(signature, for: data)
        case .ed25519(let key):
            return key.isValidSignature(signature, for: data)
        case .rsa(let key):
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: data, padding: .insecurePKCS1v1_5)
        }
    }
}
