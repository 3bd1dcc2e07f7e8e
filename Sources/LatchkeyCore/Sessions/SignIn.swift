import Foundation
import LatchkeyAPI
import Logging

/// How a sign-in ends: a session, or the challenge for the second factor of an account that has one.
public enum SignIn: Sendable {
    case signedIn(IssuedTokens)
    case secondFactorRequired(PendingSignIn)
}

/// A first factor that succeeded on an account with TOTP: no session yet. `mfaToken` exists nowhere else.
public struct PendingSignIn: Sendable {
    public var mfaToken: String
    /// What the account can answer with: `totp`, and `recovery` while it has unused recovery codes.
    public var methods: [String]
    /// Seconds.
    public var expiresIn: Int
}

extension SessionService {
    /// The one ending of every first factor (password, passkeys; later id_tokens and emailed codes): a session with
    /// `methods` as its `amr`, or, for an account with TOTP, a challenge that `POST /auth/mfa/verify` answers, unless the
    /// first factor was multi-factor already (a passkey with user verification). A right first factor ends the login
    /// throttle's count either way; `login.succeeded` is written only with a session.
    public func finishSignIn(
        _ user: User,
        methods: [AuthenticationMethod],
        client: ClientInfo,
        clearingLoginFailures accountKey: String? = nil,
        logger: Logger,
        now: Date = Date()
    ) async throws -> SignIn {
        let factors = methods.contains(.multiFactor) ? nil : try await database.mfa.factors(userID: user.id)
        guard let factors, factors.requiresCode else {
            let tokens = try await startSession(
                for: user,
                client: client,
                recording: .loginSucceeded,
                amr: methods,
                clearingLoginFailures: accountKey,
                now: now
            )
            logger.info("signed in", metadata: ["event": "login.succeeded", "user": "\(user.id)"])
            return .signedIn(tokens)
        }
        if let accountKey { try await database.rateLimits.clearLoginFailures(accountKey: accountKey) }
        let mfaToken = RandomToken.make()
        let challenge = MFAChallenge(
            tokenHash: RandomToken.hash(mfaToken),
            userID: user.id,
            amr: methods.map(\.rawValue),
            failures: 0,
            createdAt: now,
            expiresAt: now.addingTimeInterval(MFAChallenge.lifetime)
        )
        try await database.mfa.createChallenge(challenge)
        logger.info("first factor accepted; second factor required", metadata: ["event": "login.challenged", "user": "\(user.id)"])
        let answers = ["totp"] + (factors.recoveryCodesRemaining > 0 ? ["recovery"] : [])
        return .secondFactorRequired(PendingSignIn(mfaToken: mfaToken, methods: answers, expiresIn: Int(MFAChallenge.lifetime)))
    }
}
