import Crypto
import Foundation
import LatchkeyAPI
import Logging

/// Passkeys: registration, discoverable sign-in and the account's list. Every challenge is stored hashed with its
/// purpose and account, and spent by the first response that names it, before anything else of the response is checked.
public struct PasskeyService: Sendable {
    let database: any StorageBackend
    let sessions: SessionService
    let confirmation: ActionConfirmation
    public let relyingParty: RelyingParty

    /// Milliseconds, as the options say: the challenge's own lifetime.
    static let timeout = Int(PasskeyChallenge.lifetime * 1000)

    public init(database: any StorageBackend, sessions: SessionService, confirmation: ActionConfirmation, relyingParty: RelyingParty) {
        self.database = database
        self.sessions = sessions
        self.confirmation = confirmation
        self.relyingParty = relyingParty
    }

    var userVerification: String { relyingParty.requiresUserVerification ? "required" : "preferred" }

    /// Creation options for the signed-in account, once the confirmation rule is met.
    public func registrationOptions(
        _ identity: Identity,
        _ confirmation: Confirmation,
        client: ClientInfo
    ) async throws -> PublicKeyCredentialCreationOptionsJSON {
        _ = try await self.confirmation.confirm(identity, confirmation, client: client)
        let handle = try await database.passkeys.userHandle(userID: identity.userID, proposed: Data(Self.randomBytes()))
        let challenge = try await newChallenge(.register, userID: identity.userID)
        return PublicKeyCredentialCreationOptionsJSON(
            rp: .init(id: relyingParty.id, name: relyingParty.name),
            user: .init(id: Base64URL.encode(handle), name: identity.user.email, displayName: identity.user.name),
            challenge: challenge,
            algorithms: COSEAlgorithm.allCases.map { Int($0.rawValue) },
            timeout: Self.timeout,
            excludeCredentials: try await database.passkeys.passkeys(userID: identity.userID).map(\.descriptor),
            userVerification: userVerification
        )
    }

    /// Checks a registration response against its challenge and stores the passkey. `PASSKEY_INVALID` for a response
    /// that fails any check, `PASSKEY_ALREADY_REGISTERED` for a credential stored already.
    public func register(
        _ identity: Identity,
        _ response: RegistrationResponseJSON,
        name: String?,
        client: ClientInfo,
        logger: Logger
    ) async throws -> Passkey {
        let name = try Self.validatedName(name ?? "Passkey")
        let now = Date()
        let credential: RegisteredCredential
        do {
            let clientData = try ClientData(json: try Self.bytes(response.response.clientDataJSON, "clientDataJSON"))
            // The challenge first: a replayed response is refused for its spent challenge.
            guard let challenge = try await spend(clientData), challenge.purpose == .register, challenge.userID == identity.userID else {
                throw PasskeyRefused("the challenge is not a live registration challenge of this account")
            }
            credential = try relyingParty.checkRegistration(
                clientData,
                attestationObject: try Self.bytes(response.response.attestationObject, "attestationObject")
            )
            guard Base64URL.decode(response.rawId) == credential.id, response.type == "public-key" else {
                throw PasskeyRefused("rawId and type do not name the credential registered")
            }
        } catch let refused as PasskeyRefused {
            Measured.passkeyCeremonies["register failure"]?.increment()
            logger.info("passkey registration refused", metadata: ["event": "passkey.refused", "reason": "\(refused.description)"])
            throw AuthError.passkeyInvalid
        }
        let passkey = Passkey(
            id: UUID(),
            userID: identity.userID,
            credentialID: Data(credential.id),
            publicKey: Data(credential.publicKey),
            signCount: Int64(credential.signCount),
            backupEligible: credential.backupEligible,
            backedUp: credential.backedUp,
            transports: response.response.transports ?? [],
            aaguid: credential.aaguid,
            name: name,
            createdAt: now,
            lastUsedAt: nil
        )
        let audit = AuditEvent(
            .passkeyAdded,
            by: client,
            at: now,
            userID: identity.userID,
            sessionID: identity.sessionID,
            details: ["passkeyId": .string(passkey.id.uuidString.lowercased()), "aaguid": .string(passkey.aaguid.uuidString.lowercased())]
        )
        guard try await database.passkeys.add(passkey, audit: audit) else { throw AuthError.passkeyAlreadyRegistered }
        Measured.passkeyCeremonies["register success"]?.increment()
        logger.info("passkey added", metadata: ["event": "passkey.added", "user": "\(identity.userID)"])
        return passkey
    }

    /// Request options for a discoverable sign-in: no account named, `allowCredentials` empty.
    public func signInOptions(client: ClientInfo) async throws -> PublicKeyCredentialRequestOptionsJSON {
        try await sessions.limiter.check(.login, ip: client.ip)
        return PublicKeyCredentialRequestOptionsJSON(
            challenge: try await newChallenge(.login, userID: nil),
            timeout: Self.timeout,
            rpId: relyingParty.id,
            allowCredentials: [],
            userVerification: userVerification
        )
    }

    /// A passkey sign-in: `INVALID_CREDENTIALS` for every cause of refusal; only when every check passes does a disabled
    /// or deleted account answer `ACCOUNT_DISABLED`. Ends as every first factor does (`SessionService.finishSignIn`): with
    /// UV the sign-in is `hwk` and `mfa`; without, `hwk`, and an account with TOTP answers the challenge.
    public func signIn(_ response: AuthenticationResponseJSON, client: ClientInfo, logger: Logger) async throws -> SignIn {
        try await sessions.limiter.check(.login, ip: client.ip)
        let now = Date()
        let passkey: Passkey
        let assertion: VerifiedAssertion
        do {
            let clientData = try ClientData(json: try Self.bytes(response.response.clientDataJSON, "clientDataJSON"))
            guard let challenge = try await spend(clientData), challenge.purpose == .login else {
                throw PasskeyRefused("the challenge is not a live sign-in challenge")
            }
            guard let found = try await database.passkeys.passkey(credentialID: Data(try Self.bytes(response.rawId, "rawId"))) else {
                throw PasskeyRefused("the credential is not registered")
            }
            // Checked before the assertion, which stores the counter when it passes.
            let handle: [UInt8]? = response.response.userHandle.flatMap { Base64URL.decode($0) }
            guard let handle, Data(handle) == found.userHandle else { throw PasskeyRefused("the user handle is not the account's") }
            passkey = found.passkey
            assertion = try await verify(response, clientData: clientData, of: passkey, client: client, now: now, logger: logger)
        } catch let refused as PasskeyRefused {
            Measured.passkeyCeremonies["login failure"]?.increment()
            logger.info("passkey sign-in refused", metadata: ["event": "login.failed", "reason": "\(refused.description)"])
            try await database.audit.record([AuditEvent(.loginFailed, by: client, at: now, details: ["reason": "passkey_refused"])])
            throw AuthError.invalidCredentials
        }
        guard let user = try await database.users.user(id: passkey.userID), user.isActive else {
            try await database.audit.record([
                AuditEvent(.loginFailed, by: client, at: now, userID: passkey.userID, details: ["reason": "account_disabled"])
            ])
            throw AuthError.accountDisabled
        }
        Measured.passkeyCeremonies["login success"]?.increment()
        let methods: [AuthenticationMethod] = assertion.userVerified ? [.hardwareKey, .multiFactor] : [.hardwareKey]
        return try await sessions.finishSignIn(user, methods: methods, client: client, logger: logger, now: now)
    }

    /// The checks of an assertion for `passkey`, then its new counter stored. A counter that did not grow is audited
    /// (`passkey.clone_suspected`) before the refusal goes on.
    func verify(
        _ response: AuthenticationResponseJSON,
        clientData: ClientData,
        of passkey: Passkey,
        client: ClientInfo,
        now: Date,
        logger: Logger
    ) async throws -> VerifiedAssertion {
        let stored = StoredCredential(
            publicKey: Array(passkey.publicKey),
            signCount: UInt32(clamping: passkey.signCount),
            backupEligible: passkey.backupEligible
        )
        let assertion: VerifiedAssertion
        do {
            assertion = try relyingParty.checkAssertion(
                clientData,
                authenticatorData: try Self.bytes(response.response.authenticatorData, "authenticatorData"),
                signature: try Self.bytes(response.response.signature, "signature"),
                credential: stored
            )
        } catch {
            if error == .cloneSuspected {
                logger.warning("passkey counter did not grow", metadata: ["event": "passkey.clone_suspected", "user": "\(passkey.userID)"])
                let details: [String: AuditValue] = [
                    "passkeyId": .string(passkey.id.uuidString.lowercased()), "storedCount": .int(Int(passkey.signCount)),
                ]
                try await database.audit.record([AuditEvent(.passkeyCloneSuspected, by: client, at: now, userID: passkey.userID, details: details)])
            }
            throw error
        }
        // Of two sign-ins with one counter value, one goes on.
        guard
            try await database.passkeys.recordUse(
                id: passkey.id,
                previousSignCount: passkey.signCount,
                signCount: Int64(assertion.signCount),
                backedUp: assertion.backedUp,
                now: now
            )
        else { throw PasskeyRefused("the passkey was used at the same time") }
        return assertion
    }

    public func passkeys(of userID: UUID) async throws -> [Passkey] {
        try await database.passkeys.passkeys(userID: userID)
    }

    /// `NOT_FOUND` for a passkey of another account.
    public func rename(_ identity: Identity, id: UUID, name: String) async throws -> Passkey {
        guard let passkey = try await database.passkeys.rename(id: id, userID: identity.userID, name: try Self.validatedName(name)) else {
            throw AuthError.notFound
        }
        return passkey
    }

    /// Removes a passkey once the confirmation rule is met; `LAST_SIGN_IN_METHOD` when it is the account's last way in.
    public func remove(_ identity: Identity, id: UUID, _ confirmation: Confirmation, client: ClientInfo, logger: Logger) async throws {
        // A passkey of another account is 404 before anything is asked.
        guard try await database.passkeys.passkeys(userID: identity.userID).contains(where: { $0.id == id }) else { throw AuthError.notFound }
        _ = try await self.confirmation.confirm(identity, confirmation, client: client)
        let now = Date()
        let audit = AuditEvent(
            .passkeyRemoved,
            by: client,
            at: now,
            userID: identity.userID,
            sessionID: identity.sessionID,
            details: ["passkeyId": .string(id.uuidString.lowercased())]
        )
        switch try await database.passkeys.remove(id: id, userID: identity.userID, audit: audit) {
        case .removed: logger.info("passkey removed", metadata: ["event": "passkey.removed", "user": "\(identity.userID)"])
        case .notFound: throw AuthError.notFound
        case .lastSignInMethod: throw AuthError.lastSignInMethod
        }
    }

    private func newChallenge(_ purpose: PasskeyChallenge.Purpose, userID: UUID?) async throws -> String {
        let bytes = Self.randomBytes()
        let now = Date()
        try await database.passkeys.createChallenge(
            PasskeyChallenge(
                hash: Data(SHA256.hash(data: bytes)),
                purpose: purpose,
                userID: userID,
                createdAt: now,
                expiresAt: now.addingTimeInterval(PasskeyChallenge.lifetime)
            )
        )
        return Base64URL.encode(bytes)
    }

    private func spend(_ clientData: ClientData) async throws -> PasskeyChallenge? {
        try await database.passkeys.spendChallenge(hash: Data(SHA256.hash(data: clientData.challenge)), now: Date())
    }

    static func randomBytes() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func bytes(_ text: String, _ member: String) throws(PasskeyRefused) -> [UInt8] {
        guard let bytes = Base64URL.decode(text) else { throw PasskeyRefused("\(member) is not base64url") }
        return bytes
    }

    /// 1 to 64 Unicode scalars, without control, format, line or paragraph separator characters.
    static func validatedName(_ name: String) throws -> String {
        let refused: Set<Unicode.GeneralCategory> = [.control, .format, .lineSeparator, .paragraphSeparator]
        let count = name.unicodeScalars.count
        let clean = name.unicodeScalars.allSatisfy { scalar in !refused.contains(scalar.properties.generalCategory) }
        guard count >= 1, count <= 64, clean else {
            throw AuthError.validation(field: "name", "must be 1 to 64 characters, without control characters or line breaks")
        }
        return name
    }
}

extension Passkey {
    var descriptor: PublicKeyCredentialDescriptorJSON {
        PublicKeyCredentialDescriptorJSON(id: Base64URL.encode(credentialID), transports: transports.isEmpty ? nil : transports)
    }
}
