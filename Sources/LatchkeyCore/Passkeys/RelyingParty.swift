import Crypto
import Foundation
import LatchkeyAPI
import LatchkeyParsers

/// Why a WebAuthn response was refused: for the log only. Clients see `PASSKEY_INVALID` for a registration and one
/// `INVALID_CREDENTIALS` for every cause of a refused sign-in.
public struct PasskeyRefused: Error, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// The client data of a WebAuthn response (WebAuthn Level 3 § 5.8.1), read strictly: a member named twice is refused,
/// since decoders disagree on which one wins.
public struct ClientData: Sendable {
    public enum Ceremony: String, Sendable {
        case create = "webauthn.create"
        case get = "webauthn.get"
    }

    public let type: String
    /// The challenge's bytes, to find the stored challenge by their hash.
    public let challenge: [UInt8]
    public let origin: String
    public let crossOrigin: Bool
    /// SHA-256 of the JSON as the client sent it: what an assertion's signature covers.
    public let hash: [UInt8]

    private struct JSON: Decodable {
        var type: String
        var challenge: String
        var origin: String
        var crossOrigin: Bool?
    }

    public init(json: [UInt8]) throws(PasskeyRefused) {
        guard StrictJSON.isStrict(json), let decoded = try? JSONDecoder().decode(JSON.self, from: Data(json)) else {
            throw PasskeyRefused("clientDataJSON is not the JSON object WebAuthn describes")
        }
        guard let challenge = Base64URL.decode(decoded.challenge), !challenge.isEmpty else {
            throw PasskeyRefused("the client data's challenge is not base64url")
        }
        type = decoded.type
        self.challenge = challenge
        origin = decoded.origin
        crossOrigin = decoded.crossOrigin ?? false
        hash = Array(SHA256.hash(data: json))
    }
}

/// A credential that a registration creates, to be stored.
public struct RegisteredCredential: Sendable {
    public let id: [UInt8]
    /// The COSE key as the authenticator encoded it.
    public let publicKey: [UInt8]
    public let signCount: UInt32
    public let backupEligible: Bool
    public let backedUp: Bool
    public let aaguid: UUID
}

/// What a sign-in needs of a stored credential.
public struct StoredCredential: Sendable {
    public let publicKey: [UInt8]
    public let signCount: UInt32
    public let backupEligible: Bool

    public init(publicKey: [UInt8], signCount: UInt32, backupEligible: Bool) {
        self.publicKey = publicKey
        self.signCount = signCount
        self.backupEligible = backupEligible
    }
}

/// A verified assertion: what to store, and the `amr` it gives.
public struct VerifiedAssertion: Sendable, Equatable {
    public let signCount: UInt32
    public let backedUp: Bool
    public let userVerified: Bool
}

/// The relying party's side of WebAuthn's two ceremonies (WebAuthn Level 3 § 7.1 and § 7.2), once the challenge that
/// the client data names has been found and spent: the checks the contract lists, in its order.
public struct RelyingParty: Sendable {
    public let id: String
    public let name: String
    /// Web origins (`https://example.com`) and Android apps (`android:apk-key-hash:…`), compared as written.
    public let origins: Set<String>
    /// `LATCHKEY_WEBAUTHN_USER_VERIFICATION` = `required`: UV is needed to register and to sign in.
    public let requiresUserVerification: Bool
    let idHash: [UInt8]

    public init(id: String, name: String, origins: Set<String>, requiresUserVerification: Bool) {
        self.id = id
        self.name = name
        self.origins = origins
        self.requiresUserVerification = requiresUserVerification
        idHash = Array(SHA256.hash(data: Array(id.utf8)))
    }

    /// Checks a registration whose challenge has been spent and is this account's; gives the credential to store.
    public func checkRegistration(_ clientData: ClientData, attestationObject: [UInt8]) throws(PasskeyRefused) -> RegisteredCredential {
        try check(clientData, is: .create)
        let data: AuthenticatorData
        do {
            data = try AuthenticatorData(attestationObject: attestationObject)
        } catch {
            throw PasskeyRefused("the attestation object: \(error.description)")
        }
        try check(data)
        guard let credential = data.credential else { throw PasskeyRefused("a registration without a credential") }
        return RegisteredCredential(
            id: credential.id,
            publicKey: credential.publicKeyCBOR,
            signCount: data.signCount,
            backupEligible: data.flags.contains(.backupEligible),
            backedUp: data.flags.contains(.backedUp),
            aaguid: credential.aaguid
        )
    }

    /// Checks a sign-in's assertion, whose challenge has been spent, by the credential it names. A signature counter
    /// that did not grow is `PasskeyRefused.cloneSuspected`.
    public func checkAssertion(
        _ clientData: ClientData,
        authenticatorData bytes: [UInt8],
        signature: [UInt8],
        credential: StoredCredential
    ) throws(PasskeyRefused) -> VerifiedAssertion {
        try check(clientData, is: .get)
        let data: AuthenticatorData
        do {
            data = try AuthenticatorData(bytes)
        } catch {
            throw PasskeyRefused("the authenticator data: \(error.description)")
        }
        try check(data)
        guard data.credential == nil else { throw PasskeyRefused("an assertion that carries a new credential") }
        let key: COSEKey
        do {
            key = try COSEKey(cbor: try CBORReader.decode(credential.publicKey))
        } catch {
            throw PasskeyRefused("the stored public key: \(error.description)")
        }
        guard key.isValidSignature(signature, for: bytes + clientData.hash) else { throw PasskeyRefused("the signature does not verify") }
        guard data.flags.contains(.backupEligible) == credential.backupEligible else {
            throw PasskeyRefused("the backup-eligible flag differs from the registration's")
        }
        // Synced passkeys keep 0 for ever: the rule applies once either count is not zero.
        if credential.signCount != 0 || data.signCount != 0, data.signCount <= credential.signCount {
            throw .cloneSuspected
        }
        return VerifiedAssertion(
            signCount: data.signCount,
            backedUp: data.flags.contains(.backedUp),
            userVerified: data.flags.contains(.userVerified)
        )
    }

    private func check(_ clientData: ClientData, is ceremony: ClientData.Ceremony) throws(PasskeyRefused) {
        guard clientData.type == ceremony.rawValue else { throw PasskeyRefused("the client data's type is not \(ceremony.rawValue)") }
        guard origins.contains(clientData.origin) else { throw PasskeyRefused("the origin \(clientData.origin) is not accepted") }
        guard !clientData.crossOrigin else { throw PasskeyRefused("a cross-origin response") }
    }

    private func check(_ data: AuthenticatorData) throws(PasskeyRefused) {
        guard data.rpIDHash == idHash else { throw PasskeyRefused("the rp id hash is not SHA-256 of \(id)") }
        guard data.flags.contains(.userPresent) else { throw PasskeyRefused("the user was not present (UP)") }
        guard !requiresUserVerification || data.flags.contains(.userVerified) else {
            throw PasskeyRefused("the user was not verified (UV), which is required")
        }
    }
}

extension PasskeyRefused {
    /// The signature counter did not grow: a copy of the credential may exist. Audited as `passkey.clone_suspected`.
    public static let cloneSuspected = PasskeyRefused("the signature counter did not grow")
}
