import Crypto
import ExtrasBase64
import Foundation
import LatchkeyCore
import LatchkeyParsers

/// A passkey authenticator in software, for the tests: it answers WebAuthn's two ceremonies with whatever flags,
/// counter, origin or rp id a test sets, so that each of the server's checks can be made to fail alone.
public struct SoftwareAuthenticator: Sendable {
    public var key: PasskeyKey
    public var credentialID: [UInt8]
    public var rpID: String
    public var origin: String
    public var flags: AuthenticatorData.Flags = [.userPresent, .userVerified]
    /// Sent as it is; 0 stays 0, as synced passkeys do.
    public var signCount: UInt32 = 0
    public var aaguid: [UInt8] = Array(repeating: 0, count: 16)
    /// A client data `type` other than the ceremony's, when set.
    public var typeOverride: String?
    public var crossOrigin: Bool?

    public init(_ algorithm: COSEAlgorithm = .es256, rpID: String, origin: String) throws {
        key = try PasskeyKey(algorithm)
        credentialID = (0..<16).map { _ in UInt8.random(in: 0...255) }
        self.rpID = rpID
        self.origin = origin
    }

    public static func base64URL(_ bytes: [UInt8]) -> String {
        Base64.encodeToString(bytes: bytes, options: [.base64UrlAlphabet, .omitPaddingCharacter])
    }

    public func clientDataJSON(_ type: String, challenge: [UInt8]) -> [UInt8] {
        var members = [
            "\"type\":\"\(typeOverride ?? type)\"", "\"challenge\":\"\(Self.base64URL(challenge))\"", "\"origin\":\"\(origin)\"",
        ]
        if let crossOrigin { members.append("\"crossOrigin\":\(crossOrigin)") }
        return Array("{\(members.joined(separator: ","))}".utf8)
    }

    var rpIDHash: [UInt8] { Array(SHA256.hash(data: Array(rpID.utf8))) }

    /// `navigator.credentials.create`'s answer: the client data and the attestation object (format "none").
    public func registration(challenge: [UInt8]) throws -> (clientDataJSON: [UInt8], attestationObject: [UInt8]) {
        let data = authenticatorData(
            rpIDHash: rpIDHash,
            flags: flags.union(.attestedCredentialData),
            signCount: signCount,
            credential: (aaguid, credentialID, CBOREncoder.encode(try key.cose))
        )
        let object = CBOR.map([.text("fmt"): .text("none"), .text("attStmt"): .map([:]), .text("authData"): .bytes(data)])
        return (clientDataJSON("webauthn.create", challenge: challenge), CBOREncoder.encode(object))
    }

    /// `navigator.credentials.get`'s answer: the client data, the authenticator data and the signature over both.
    public func assertion(challenge: [UInt8]) throws -> (clientDataJSON: [UInt8], authenticatorData: [UInt8], signature: [UInt8]) {
        let clientData = clientDataJSON("webauthn.get", challenge: challenge)
        let data = authenticatorData(rpIDHash: rpIDHash, flags: flags, signCount: signCount)
        return (clientData, data, try key.signature(for: data + Array(SHA256.hash(data: clientData))))
    }
}

extension SoftwareAuthenticator {
    public static func bytes(base64URL text: String) -> [UInt8] {
        (try? Base64.decode(string: text, options: [.base64UrlAlphabet, .omitPaddingCharacter])) ?? []
    }

    /// `RegistrationResponseJSON` for creation options' `challenge`, as `PublicKeyCredential.toJSON()` writes it.
    public func registrationJSON(challenge: String, transports: [String] = ["internal", "hybrid"]) throws -> [String: any Sendable] {
        let response = try registration(challenge: Self.bytes(base64URL: challenge))
        let id = Self.base64URL(credentialID)
        let body: [String: any Sendable] = [
            "clientDataJSON": Self.base64URL(response.clientDataJSON),
            "attestationObject": Self.base64URL(response.attestationObject),
            "transports": transports,
        ]
        return ["id": id, "rawId": id, "type": "public-key", "response": body, "clientExtensionResults": [String: String]()]
    }

    /// `AuthenticationResponseJSON` for request options' `challenge`, with `userHandle` (base64url) when given.
    public func assertionJSON(challenge: String, userHandle: String?) throws -> [String: any Sendable] {
        let response = try assertion(challenge: Self.bytes(base64URL: challenge))
        let id = Self.base64URL(credentialID)
        var body: [String: any Sendable] = [
            "clientDataJSON": Self.base64URL(response.clientDataJSON),
            "authenticatorData": Self.base64URL(response.authenticatorData),
            "signature": Self.base64URL(response.signature),
        ]
        if let userHandle { body["userHandle"] = userHandle }
        return ["id": id, "rawId": id, "type": "public-key", "response": body, "clientExtensionResults": [String: String]()]
    }
}
