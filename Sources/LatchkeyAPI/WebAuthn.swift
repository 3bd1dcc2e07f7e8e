import Foundation

/// WebAuthn Level 3's JSON forms, as `PublicKeyCredential.parseCreationOptionsFromJSON` and `toJSON()` take and give
/// them: binary values are base64url without padding.

public struct PublicKeyCredentialDescriptorJSON: Codable, Sendable, Equatable {
    public var type = "public-key"
    public var id: String
    public var transports: [String]?

    public init(id: String, transports: [String]?) {
        self.id = id
        self.transports = transports
    }
}

/// `POST /auth/passkeys/register/options`: the object itself, not wrapped in `publicKey`.
public struct PublicKeyCredentialCreationOptionsJSON: Codable, Sendable, Equatable {
    public struct RelyingParty: Codable, Sendable, Equatable {
        public var id: String
        public var name: String

        public init(id: String, name: String) {
            self.id = id
            self.name = name
        }
    }

    public struct User: Codable, Sendable, Equatable {
        /// The account's random handle, never its email or id.
        public var id: String
        public var name: String
        public var displayName: String

        public init(id: String, name: String, displayName: String) {
            self.id = id
            self.name = name
            self.displayName = displayName
        }
    }

    public struct Parameter: Codable, Sendable, Equatable {
        public var type = "public-key"
        public var alg: Int
    }

    public struct AuthenticatorSelection: Codable, Sendable, Equatable {
        public var residentKey = "required"
        public var userVerification: String
    }

    public var rp: RelyingParty
    public var user: User
    public var challenge: String
    public var pubKeyCredParams: [Parameter]
    public var timeout: Int
    public var excludeCredentials: [PublicKeyCredentialDescriptorJSON]
    public var authenticatorSelection: AuthenticatorSelection
    public var attestation = "none"

    public init(
        rp: RelyingParty,
        user: User,
        challenge: String,
        algorithms: [Int],
        timeout: Int,
        excludeCredentials: [PublicKeyCredentialDescriptorJSON],
        userVerification: String
    ) {
        self.rp = rp
        self.user = user
        self.challenge = challenge
        self.pubKeyCredParams = algorithms.map { Parameter(alg: $0) }
        self.timeout = timeout
        self.excludeCredentials = excludeCredentials
        self.authenticatorSelection = AuthenticatorSelection(userVerification: userVerification)
    }
}

/// `POST /auth/passkeys/login/options` and `POST /auth/mfa/passkey-options`.
public struct PublicKeyCredentialRequestOptionsJSON: Codable, Sendable, Equatable {
    public var challenge: String
    public var timeout: Int
    public var rpId: String
    /// Empty for a discoverable sign-in; the account's passkeys for a second factor or a step-up.
    public var allowCredentials: [PublicKeyCredentialDescriptorJSON]
    public var userVerification: String

    public init(challenge: String, timeout: Int, rpId: String, allowCredentials: [PublicKeyCredentialDescriptorJSON], userVerification: String) {
        self.challenge = challenge
        self.timeout = timeout
        self.rpId = rpId
        self.allowCredentials = allowCredentials
        self.userVerification = userVerification
    }
}

/// A `PublicKeyCredential` as its `toJSON()` writes it. Members the server does not use (`clientExtensionResults`,
/// `authenticatorAttachment`, the response's convenience members) are ignored.
public struct PublicKeyCredentialJSON<Response: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var id: String
    /// The credential id, base64url.
    public var rawId: String
    public var type: String
    public var response: Response

    public init(id: String, rawId: String, type: String = "public-key", response: Response) {
        self.id = id
        self.rawId = rawId
        self.type = type
        self.response = response
    }
}

/// What `navigator.credentials.create` gives.
public typealias RegistrationResponseJSON = PublicKeyCredentialJSON<AuthenticatorAttestationResponseJSON>
/// What `navigator.credentials.get` gives.
public typealias AuthenticationResponseJSON = PublicKeyCredentialJSON<AuthenticatorAssertionResponseJSON>

public struct AuthenticatorAttestationResponseJSON: Codable, Sendable, Equatable {
    public var clientDataJSON: String
    public var attestationObject: String
    public var transports: [String]?

    public init(clientDataJSON: String, attestationObject: String, transports: [String]?) {
        self.clientDataJSON = clientDataJSON
        self.attestationObject = attestationObject
        self.transports = transports
    }
}

public struct AuthenticatorAssertionResponseJSON: Codable, Sendable, Equatable {
    public var clientDataJSON: String
    public var authenticatorData: String
    public var signature: String
    /// Base64url; required for a sign-in.
    public var userHandle: String?

    public init(clientDataJSON: String, authenticatorData: String, signature: String, userHandle: String?) {
        self.clientDataJSON = clientDataJSON
        self.authenticatorData = authenticatorData
        self.signature = signature
        self.userHandle = userHandle
    }
}

/// A passkey as its owner sees it (`GET /auth/passkeys`, and the answers of registering and renaming one).
public struct PasskeyResponse: Codable, Sendable, Equatable {
    /// The server's id (a lower-case UUID), not the credential id.
    public var id: String
    public var name: String
    public var createdAt: Date
    /// Null until the first sign-in with it.
    public var lastUsedAt: Date?
    public var backupEligible: Bool
    public var backedUp: Bool
    public var transports: [String]
    /// A lower-case UUID; all zeros when the authenticator names no model.
    public var aaguid: String

    public init(
        id: String,
        name: String,
        createdAt: Date,
        lastUsedAt: Date?,
        backupEligible: Bool,
        backedUp: Bool,
        transports: [String],
        aaguid: String
    ) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.backupEligible = backupEligible
        self.backedUp = backedUp
        self.transports = transports
        self.aaguid = aaguid
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(lastUsedAt, forKey: .lastUsedAt)
        try container.encode(backupEligible, forKey: .backupEligible)
        try container.encode(backedUp, forKey: .backedUp)
        try container.encode(transports, forKey: .transports)
        try container.encode(aaguid, forKey: .aaguid)
    }
}

/// `GET /auth/passkeys`
public struct PasskeyListResponse: Codable, Sendable, Equatable {
    public var passkeys: [PasskeyResponse]

    public init(passkeys: [PasskeyResponse]) {
        self.passkeys = passkeys
    }
}
