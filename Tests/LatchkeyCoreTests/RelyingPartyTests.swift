import LatchkeyTestSupport
import Testing

@testable import LatchkeyCore

/// The checks of both ceremonies once the challenge is found (the store finds and spends it): one refusal per rule of
/// the contract, with a software authenticator that breaks one thing at a time.
@Suite struct RelyingPartyTests {
    static let origin = "https://example.com"
    static let party = RelyingParty(
        id: "example.com",
        name: "Example",
        origins: [origin, "android:apk-key-hash:abc"],
        requiresUserVerification: false
    )
    static let challenge = Array(repeating: UInt8(7), count: 32)

    static func authenticator(_ algorithm: COSEAlgorithm = .es256) throws -> SoftwareAuthenticator {
        try SoftwareAuthenticator(algorithm, rpID: "example.com", origin: origin)
    }

    static func register(_ authenticator: SoftwareAuthenticator, party: RelyingParty = party) throws -> RegisteredCredential {
        let response = try authenticator.registration(challenge: challenge)
        return try party.checkRegistration(try ClientData(json: response.clientDataJSON), attestationObject: response.attestationObject)
    }

    static func signIn(
        _ authenticator: SoftwareAuthenticator,
        with credential: RegisteredCredential,
        party: RelyingParty = party
    ) throws
        -> VerifiedAssertion
    {
        let response = try authenticator.assertion(challenge: challenge)
        return try party.checkAssertion(
            try ClientData(json: response.clientDataJSON),
            authenticatorData: response.authenticatorData,
            signature: response.signature,
            credential: StoredCredential(publicKey: credential.publicKey, signCount: credential.signCount, backupEligible: credential.backupEligible)
        )
    }

    @Test(arguments: COSEAlgorithm.allCases)
    func eachAlgorithmRegistersAndSignsIn(algorithm: COSEAlgorithm) throws {
        var authenticator = try Self.authenticator(algorithm)
        authenticator.flags = [.userPresent, .userVerified, .backupEligible, .backedUp]
        authenticator.aaguid = Array(repeating: 0xAB, count: 16)
        let credential = try Self.register(authenticator)
        #expect(credential.id == authenticator.credentialID)
        #expect(credential.backupEligible && credential.backedUp)
        #expect(credential.aaguid.uuidString.lowercased() == "abababab-abab-abab-abab-abababababab")
        #expect(try Self.signIn(authenticator, with: credential) == VerifiedAssertion(signCount: 0, backedUp: true, userVerified: true))
        authenticator.flags = [.userPresent, .backupEligible]
        #expect(try Self.signIn(authenticator, with: credential) == VerifiedAssertion(signCount: 0, backedUp: false, userVerified: false))
    }

    @Test func theClientDataMustBeStrictJSONWithABase64URLChallenge() {
        for json in [
            #"{"type":"webauthn.get","challenge":"AAAA","origin":"https://example.com","origin":"https://evil.example"}"#,
            #"{"type":"webauthn.get","challenge":"AA+/","origin":"https://example.com"}"#,
            #"{"type":"webauthn.get","challenge":"","origin":"https://example.com"}"#,
            #"{"type":"webauthn.get","origin":"https://example.com"}"#, #"["webauthn.get"]"#, "",
        ] {
            #expect(throws: PasskeyRefused.self, "\(json)") { try ClientData(json: Array(json.utf8)) }
        }
    }

    /// Each registration rule broken alone, in the contract's order.
    @Test func registrationRefusals() throws {
        let refusals: [(String, (inout SoftwareAuthenticator) throws -> Void)] = [
            ("type", { $0.typeOverride = "webauthn.get" }),
            ("origin", { $0.origin = "https://evil.example" }),
            ("a subdomain's origin", { $0.origin = "https://login.example.com" }),
            ("crossOrigin", { $0.crossOrigin = true }),
            ("rp id", { $0.rpID = "evil.example" }),
            ("UP", { $0.flags = [.userVerified] }),
            ("credential id", { $0.credentialID = Array(repeating: 1, count: 1024) }),
        ]
        for (rule, breakIt) in refusals {
            var authenticator = try Self.authenticator()
            #expect(throws: Never.self, "\(rule)") { try Self.register(authenticator) }
            try breakIt(&authenticator)
            #expect(throws: PasskeyRefused.self, "\(rule)") { try Self.register(authenticator) }
        }
        var authenticator = try Self.authenticator()
        authenticator.crossOrigin = false
        #expect(throws: Never.self) { try Self.register(authenticator) }
        authenticator.origin = "android:apk-key-hash:abc"
        #expect(throws: Never.self) { try Self.register(authenticator) }
    }

    @Test func userVerificationWhenRequired() throws {
        let strict = RelyingParty(id: "example.com", name: "Example", origins: [Self.origin], requiresUserVerification: true)
        var authenticator = try Self.authenticator()
        let credential = try Self.register(authenticator, party: strict)
        authenticator.flags = [.userPresent]
        #expect(throws: PasskeyRefused.self) { try Self.register(authenticator, party: strict) }
        #expect(throws: PasskeyRefused.self) { try Self.signIn(authenticator, with: credential, party: strict) }
        #expect(throws: Never.self) { try Self.signIn(authenticator, with: credential) }
    }

    /// Each sign-in rule broken alone, in the contract's order.
    @Test func signInRefusals() throws {
        let refusals: [(String, (inout SoftwareAuthenticator) throws -> Void)] = [
            ("type", { $0.typeOverride = "webauthn.create" }),
            ("origin", { $0.origin = "https://evil.example" }),
            ("crossOrigin", { $0.crossOrigin = true }),
            ("rp id", { $0.rpID = "evil.example" }),
            ("UP", { $0.flags = [.userVerified] }),
            ("signature", { $0.key = try PasskeyKey(.es256) }),
            ("backup eligibility", { $0.flags.insert(.backupEligible) }),
        ]
        for (rule, breakIt) in refusals {
            var authenticator = try Self.authenticator()
            let credential = try Self.register(authenticator)
            #expect(throws: Never.self, "\(rule)") { try Self.signIn(authenticator, with: credential) }
            try breakIt(&authenticator)
            #expect(throws: PasskeyRefused.self, "\(rule)") { try Self.signIn(authenticator, with: credential) }
        }
    }

    @Test func anAssertionWithANewCredentialIsRefused() throws {
        let authenticator = try Self.authenticator()
        let credential = try Self.register(authenticator)
        let response = try authenticator.assertion(challenge: Self.challenge)
        var data = response.authenticatorData
        data[32] |= AuthenticatorData.Flags.attestedCredentialData.rawValue
        #expect(throws: PasskeyRefused.self) {
            try Self.party.checkAssertion(
                try ClientData(json: response.clientDataJSON),
                authenticatorData: data,
                signature: response.signature,
                credential: StoredCredential(publicKey: credential.publicKey, signCount: 0, backupEligible: false)
            )
        }
    }

    /// 0 and 0 for ever (synced passkeys); once either is not zero, only a greater count.
    @Test(
        arguments: [(0, 0, true), (0, 1, true), (5, 6, true), (5, 5, false), (5, 4, false), (5, 0, false), (1, 0, false)] as [(UInt32, UInt32, Bool)]
    )
    func theSignatureCounter(stored: UInt32, received: UInt32, accepted: Bool) throws {
        var authenticator = try Self.authenticator()
        authenticator.signCount = stored
        let credential = try Self.register(authenticator)
        #expect(credential.signCount == stored)
        authenticator.signCount = received
        if accepted {
            #expect(try Self.signIn(authenticator, with: credential).signCount == received)
        } else {
            #expect(throws: PasskeyRefused.cloneSuspected) { try Self.signIn(authenticator, with: credential) }
        }
    }
}
