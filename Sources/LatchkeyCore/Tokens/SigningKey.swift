import Crypto
import CryptoExtras
import Foundation
import JWTKit

/// A stored asymmetric signing key: its `kid`, algorithm and private key material (PEM, or base64 raw bytes
/// for Ed25519). HS256 keys are never stored: they come from the configured secret.
public struct SigningKey: Sendable, Equatable {
    public var kid: String
    public var algorithm: SigningAlgorithm
    public var privateKey: String
    public var createdAt: Date
    /// From then on the key signs (until a newer key activates); published in the JWKS from its creation, so that
    /// verifiers holding a cached JWKS know it before they see a token it signed.
    public var activatesAt: Date
    /// A retired key is gone from the JWKS, and tokens it signed are refused.
    public var retiredAt: Date?

    public init(kid: String, algorithm: SigningAlgorithm, privateKey: String, createdAt: Date, activatesAt: Date? = nil, retiredAt: Date? = nil) {
        self.kid = kid
        self.algorithm = algorithm
        self.privateKey = privateKey
        self.createdAt = createdAt
        self.activatesAt = activatesAt ?? createdAt
        self.retiredAt = retiredAt
    }

    /// Generates a fresh key with a random `kid`, signing from `activatesAt` (default: at once).
    public static func generate(_ algorithm: SigningAlgorithm, now: Date, activatesAt: Date? = nil) throws -> SigningKey {
        let material: String
        switch algorithm {
        case .eddsa: material = Curve25519.Signing.PrivateKey().rawRepresentation.base64EncodedString()
        case .es256: material = P256.Signing.PrivateKey().pemRepresentation
        case .rs256: material = try _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation
        case .hs256: throw AuthError(.internalError, "HS256 keys come from the configured secret")
        }
        // A kid starting with "-" would read as an option to `latchkey keys retire KID` (one kid in 64 did).
        var kid = RandomToken.make(bytes: 16)
        while kid.hasPrefix("-") { kid = RandomToken.make(bytes: 16) }
        return SigningKey(kid: kid, algorithm: algorithm, privateKey: material, createdAt: now, activatesAt: activatesAt)
    }

    /// Adds this key to `keys` under its `kid`, and returns its public JWK.
    func register(in keys: JWTKeyCollection) async throws -> JWK {
        let kid = JWKIdentifier(string: kid)
        switch algorithm {
        case .eddsa:
            guard let raw = Data(base64Encoded: privateKey) else { throw AuthError(.internalError, "Stored Ed25519 key is corrupt") }
            let key = EdDSA.PrivateKey(backing: try Curve25519.Signing.PrivateKey(rawRepresentation: raw))
            await keys.add(eddsa: key, kid: kid)
            let x = Base64URL.encode(key.publicKey.rawRepresentation)
            return JWK.octetKeyPair(.eddsa, identifier: kid, x: x, y: nil, curve: .ed25519)
        case .es256:
            let key = try ES256PrivateKey(pem: privateKey)
            await keys.add(ecdsa: key, kid: kid)
            let parameters = key.publicKey.parameters
            return JWK.ecdsa(.es256, identifier: kid, x: parameters?.x, y: parameters?.y, curve: .p256)
        case .rs256:
            let key = try Insecure.RSA.PrivateKey(pem: privateKey)
            await keys.add(rsa: key, digestAlgorithm: .sha256, kid: kid)
            let (modulus, exponent) = try key.publicKey.getKeyPrimitives()
            return JWK.rsa(.rs256, identifier: kid, modulus: Base64URL.encode(modulus), exponent: Base64URL.encode(exponent))
        case .hs256:
            throw AuthError(.internalError, "HS256 keys come from the configured secret")
        }
    }
}
