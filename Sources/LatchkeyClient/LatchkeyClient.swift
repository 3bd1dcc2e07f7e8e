import Foundation
import LatchkeyAPI
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A Swift client of a Latchkey server: the account routes, typed with LatchkeyAPI's requests and responses, and the
/// tokens kept in a `TokenStore`.
///
/// Calls that need the user's access token refresh it first when it expires within `refreshMargin`, and once more when
/// the server answers `TOKEN_EXPIRED`. Refreshes are single-flight: however many calls find the token expired at the
/// same time, one `POST /auth/refresh` goes out and all of them go on with its result; when it fails for good (the
/// session was revoked, the refresh token reused), the client signs out once and every waiting call gets the same error.
///
/// ```swift
/// let client = LatchkeyClient(serverURL: URL(string: "https://auth.example.com")!, store: FileTokenStore(url: tokensFile))
/// if case .secondFactorRequired = try await client.login(email: "ada@example.com", password: password) {
///     try await client.verifyMFA(code: codeTheUserTyped)
/// }
/// let me = try await client.me()
/// let (notes, answer) = try await client.authorizedRequest(URLRequest(url: notesURL))  // your own API
/// ```
public final class LatchkeyClient: Sendable {
    public let serverURL: URL
    public let store: any TokenStore
    /// Seconds before its expiry that an access token is refreshed; at most half its life.
    public let refreshMargin: TimeInterval
    public let transport: any HTTPTransport
    /// The refresh under way, which every call needing a fresh token waits for.
    private let refreshing = Mutex<Task<StoredTokens, any Error>?>(nil)
    /// The `mfaToken` of a login waiting for its second factor.
    private let pendingChallenge = Mutex<String?>(nil)

    public init(
        serverURL: URL,
        store: any TokenStore = InMemoryTokenStore(),
        refreshMargin: TimeInterval = 30,
        transport: any HTTPTransport = LatchkeyClient.platformTransport
    ) {
        self.serverURL = serverURL
        self.store = store
        self.refreshMargin = refreshMargin
        self.transport = transport
    }

    /// URLSession on Apple platforms, AsyncHTTPClient elsewhere.
    public static var platformTransport: any HTTPTransport {
        #if canImport(Darwin)
        URLSessionTransport()
        #else
        AsyncHTTPClientTransport()
        #endif
    }

    // MARK: - Signing in and out

    /// Creates an account; when the server requires no verification it is signed in at once.
    @discardableResult
    public func register(email: String, password: String, name: String) async throws -> RegisterResponse {
        let registered: RegisterResponse = try await send(.POST, "auth/register", RegisterRequest(email: email, password: password, name: name))
        if let access = registered.accessToken, let refresh = registered.refreshToken, let expiresIn = registered.expiresIn {
            try await store.save(.received(accessToken: access, refreshToken: refresh, expiresIn: expiresIn))
        }
        return registered
    }

    /// Signs in with the password; for an account with TOTP, answers the challenge that `verifyMFA` completes (no
    /// tokens are kept until then).
    @discardableResult
    public func login(email: String, password: String) async throws -> SignInResult {
        try await signIn(try await send(.POST, "auth/login", LoginRequest(email: email, password: password)))
    }

    /// A token pair signs in; a challenge is kept for `verifyMFA`.
    private func signIn(_ answer: LoginAnswer) async throws -> SignInResult {
        switch answer {
        case .tokens(let pair):
            pendingChallenge.withLock { $0 = nil }
            return .signedIn(try await signIn(pair))
        case .challenge(let challenge):
            pendingChallenge.withLock { $0 = challenge.mfaToken }
            return .secondFactorRequired(methods: challenge.methods)
        }
    }

    /// The second step of a login that answered `secondFactorRequired`: a code of the authenticator app.
    @discardableResult
    public func verifyMFA(code: String) async throws -> UserResponse {
        try await finishSignIn(MFAVerifyRequest(code: code))
    }

    /// The second step with a recovery code (each works once).
    @discardableResult
    public func verifyMFA(recoveryCode: String) async throws -> UserResponse {
        try await finishSignIn(MFAVerifyRequest(recoveryCode: recoveryCode))
    }

    /// Step-up: adds a second factor to the signed-in session (new tokens whose `amr` has `mfa`), for a session that
    /// signed in with a password alone. Give `code` or `recoveryCode`.
    @discardableResult
    public func stepUp(code: String? = nil, recoveryCode: String? = nil) async throws -> UserResponse {
        let pair: TokenPairResponse = try await authorized(.POST, "auth/mfa/verify", MFAVerifyRequest(code: code, recoveryCode: recoveryCode))
        return try await signIn(pair)
    }

    private func finishSignIn(_ request: MFAVerifyRequest) async throws -> UserResponse {
        guard let mfaToken = pendingChallenge.withLock({ $0 }) else { throw LatchkeyClientError.signedOut }
        var request = request
        request.mfaToken = mfaToken
        let pair: TokenPairResponse = try await send(.POST, "auth/mfa/verify", request)
        pendingChallenge.withLock { $0 = nil }
        return try await signIn(pair)
    }

    private func signIn(_ pair: TokenPairResponse) async throws -> UserResponse {
        // A refresh of the previous session, still under way, must not overwrite (or clear) the new tokens.
        await refreshUnderWay()
        try await keep(pair)
        return pair.user
    }

    /// Ends this session on the server and forgets the tokens; signed out already is fine.
    public func logout() async throws {
        await refreshUnderWay()
        guard let tokens = try await store.load() else { return }
        let _: Empty = try await send(.POST, "auth/logout", LogoutRequest(refreshToken: tokens.refreshToken))
        try await store.save(nil)
    }

    /// Ends every session of the user, this one too.
    public func logoutAll() async throws {
        let _: Empty = try await authorized(.POST, "auth/logout-all", Empty?.none)
        try await store.save(nil)
    }

    /// A fresh token pair now, single-flight. Throws `signedOut` without tokens; a refresh token the server refuses
    /// signs the client out.
    @discardableResult
    public func refresh() async throws -> StoredTokens {
        try await freshTokens(replacing: nil)
    }

    // MARK: - Second factors

    /// The account's second factors.
    public func secondFactors() async throws -> MFAStatusResponse {
        try await authorized(.GET, "auth/mfa", Empty?.none)
    }

    /// Starts a TOTP enrolment: show `otpauthUri` (as a link) or `qrSvg` (as an image), then call `confirmTOTP` with the
    /// app's first code. `code` is needed only while TOTP is on (which the server then refuses).
    public func enrollTOTP(password: String, code: String? = nil) async throws -> TOTPEnrolmentResponse {
        try await authorized(.POST, "auth/mfa/totp/enroll", ConfirmationRequest(password: password, code: code))
    }

    /// Turns TOTP on and returns the ten recovery codes, to show the user once. The server signs out every other session.
    public func confirmTOTP(code: String) async throws -> [String] {
        let answer: RecoveryCodesResponse = try await authorized(.POST, "auth/mfa/totp/confirm", MFACodeRequest(code: code))
        return answer.recoveryCodes
    }

    // MARK: - Passkeys

    /// Creation options for a new passkey of the signed-in account, once it confirms: `password`, and `code` while TOTP
    /// is on. On iOS, give them to `ASAuthorizationPlatformPublicKeyCredentialProvider(relyingPartyIdentifier:)`'s
    /// `createCredentialRegistrationRequest(challenge:name:userID:)` (challenge and user id base64url-decoded), then
    /// send the credential's JSON form to `registerPasskey`. See docs/passkeys.md.
    public func passkeyRegistrationOptions(password: String?, code: String? = nil) async throws -> PublicKeyCredentialCreationOptionsJSON {
        try await authorized(.POST, "auth/passkeys/register/options", ConfirmationRequest(password: password, code: code))
    }

    @discardableResult
    public func registerPasskey(_ credential: RegistrationResponseJSON, name: String? = nil) async throws -> PasskeyResponse {
        try await authorized(.POST, "auth/passkeys/register", PasskeyRegistrationRequest(credential: credential, name: name))
    }

    /// Options for a sign-in with any passkey of this relying party (`allowCredentials` is empty): on iOS, for
    /// `createCredentialAssertionRequest(challenge:)`.
    public func passkeySignInOptions() async throws -> PublicKeyCredentialRequestOptionsJSON {
        try await send(.POST, "auth/passkeys/login/options", EmptyRequest())
    }

    /// Signs in with a passkey's assertion. Without user verification, an account with TOTP answers the challenge that
    /// `verifyMFA` completes, as `login` does.
    @discardableResult
    public func signInWithPasskey(_ credential: AuthenticationResponseJSON) async throws -> SignInResult {
        try await signIn(try await send(.POST, "auth/passkeys/login", PasskeySignInRequest(credential: credential)))
    }

    public func passkeys() async throws -> [PasskeyResponse] {
        let answer: PasskeyListResponse = try await authorized(.GET, "auth/passkeys", Empty?.none)
        return answer.passkeys
    }

    @discardableResult
    public func renamePasskey(id: String, name: String) async throws -> PasskeyResponse {
        try await authorized(.PATCH, "auth/passkeys/\(id)", PasskeyRenameRequest(name: name))
    }

    /// Removes a passkey once the account confirms; the server refuses to remove the account's last way in.
    public func removePasskey(id: String, password: String?, code: String? = nil) async throws {
        let _: Empty = try await authorized(.DELETE, "auth/passkeys/\(id)", ConfirmationRequest(password: password, code: code))
    }

    // MARK: - The signed-in user

    public func me() async throws -> UserResponse {
        try await authorized(.GET, "auth/me", Empty?.none)
    }

    public func updateProfile(name: String) async throws -> UserResponse {
        try await authorized(.PATCH, "auth/me", UpdateProfileRequest(name: name))
    }

    /// The server keeps this session and ends every other one.
    public func changePassword(current: String, new: String) async throws {
        let _: Empty = try await authorized(.POST, "auth/change-password", ChangePasswordRequest(currentPassword: current, newPassword: new))
    }

    /// Deletes the account and signs out.
    public func deleteAccount(password: String) async throws {
        let _: Empty = try await authorized(.DELETE, "auth/me", ConfirmationRequest(password: password))
        try await store.save(nil)
    }

    /// A page of live sessions, newest first.
    public func sessions(limit: Int = 50, cursor: String? = nil) async throws -> SessionListResponse {
        var query = "auth/sessions?limit=\(limit)"
        if let cursor { query += "&cursor=\(cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
        return try await authorized(.GET, query, Empty?.none)
    }

    public func revokeSession(id: UUID) async throws {
        let _: Empty = try await authorized(.DELETE, "auth/sessions/\(id.uuidString.lowercased())", Empty?.none)
    }

    // MARK: - Emailed links

    public func verifyEmail(token: String) async throws -> UserResponse {
        try await send(.POST, "auth/verify-email", TokenRequest(token: token))
    }

    /// The same answer whether or not the account exists.
    public func resendVerification(email: String) async throws {
        let _: Empty = try await send(.POST, "auth/verify-email/resend", EmailRequest(email: email))
    }

    /// The same answer whether or not the account exists.
    public func forgotPassword(email: String) async throws {
        let _: Empty = try await send(.POST, "auth/forgot-password", EmailRequest(email: email))
    }

    public func resetPassword(token: String, newPassword: String) async throws {
        let _: Empty = try await send(.POST, "auth/reset-password", ResetPasswordRequest(token: token, newPassword: newPassword))
    }

    // MARK: - Your own API

    /// Sends `request` with the access token, refreshed first when it is about to expire, and once more, then sent
    /// again, when the server answers 401 `TOKEN_EXPIRED`. Send it only to your own services that trust Latchkey's
    /// tokens: whoever receives it can act as the user until it expires. The body must be `httpBody` (not a stream) so
    /// that it can be sent twice.
    public func authorizedRequest(_ request: URLRequest) async throws -> (Data, HTTPURLResponse) {
        var token = try await accessToken()
        for attempt in 1...2 {
            var request = request
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            let (body, response) = try await transport.data(for: request)
            guard response.statusCode == 401, attempt == 1,
                (try? JSONDecoder().decode(ErrorResponse.self, from: body))?.error == .tokenExpired
            else { return (body, response) }
            token = try await freshTokens(replacing: token).accessToken
        }
        preconditionFailure("the second attempt returns")
    }

    // MARK: - Tokens

    /// The stored access token, refreshed first when it expires within the margin. When that early refresh fails for a
    /// while (429, 503, no network), the token still good is used.
    private func accessToken() async throws -> String {
        guard let tokens = try await store.load() else { throw LatchkeyClientError.signedOut }
        if tokens.accessTokenExpiresAt.timeIntervalSinceNow > tokens.refreshLead(margin: refreshMargin) { return tokens.accessToken }
        do {
            return try await freshTokens(replacing: tokens.accessToken).accessToken
        } catch let error as LatchkeyClientError where !error.endsTheSession && tokens.accessTokenExpiresAt > Date() {
            return tokens.accessToken
        }
    }

    /// Waits for the refresh under way, if any, whatever its outcome.
    private func refreshUnderWay() async {
        _ = await refreshing.withLock { $0 }?.result
    }

    /// Joins the refresh under way, or starts one. `stale` is the access token the caller found wanting: when the store
    /// already holds another, fresh one (a refresh finished meanwhile, maybe in another process), that is the answer.
    private func freshTokens(replacing stale: String?) async throws -> StoredTokens {
        let refresh = refreshing.withLock { current in
            if let current { return current }
            let task = Task {
                defer { self.refreshing.withLock { $0 = nil } }
                return try await self.performRefresh(replacing: stale)
            }
            current = task
            return task
        }
        return try await refresh.value
    }

    private func performRefresh(replacing stale: String?) async throws -> StoredTokens {
        guard let tokens = try await store.load() else { throw LatchkeyClientError.signedOut }
        if let stale, tokens.accessToken != stale, tokens.accessTokenExpiresAt.timeIntervalSinceNow > tokens.refreshLead(margin: refreshMargin) {
            return tokens
        }
        do {
            let pair: TokenPairResponse = try await send(.POST, "auth/refresh", RefreshRequest(refreshToken: tokens.refreshToken))
            return try await keep(pair)
        } catch let error as LatchkeyClientError where error.endsTheSession {
            // Signed out, unless the store holds other tokens by now (a login meanwhile, maybe in another process).
            if try await store.load()?.refreshToken == tokens.refreshToken { try await store.save(nil) }
            throw error
        }
    }

    @discardableResult
    private func keep(_ pair: TokenPairResponse) async throws -> StoredTokens {
        guard let refreshToken = pair.refreshToken else { throw LatchkeyClientError.unexpectedAnswer(status: 200) }
        let tokens = StoredTokens.received(accessToken: pair.accessToken, refreshToken: refreshToken, expiresIn: pair.expiresIn)
        try await store.save(tokens)
        return tokens
    }

    // MARK: - HTTP

    /// A call with the access token, refreshed and sent again once when the server says it has expired.
    private func authorized<Response: Decodable>(_ method: HTTPMethod, _ path: String, _ body: (some Encodable)?) async throws -> Response {
        var token = try await accessToken()
        do {
            return try await send(method, path, body, bearer: token)
        } catch let error as LatchkeyClientError where error.code == .tokenExpired {
            token = try await freshTokens(replacing: token).accessToken
            return try await send(method, path, body, bearer: token)
        }
    }

    private func send<Response: Decodable>(
        _ method: HTTPMethod,
        _ path: String,
        _ body: (some Encodable)?,
        bearer: String? = nil
    ) async throws
        -> Response
    {
        guard let url = URL(string: serverURL.absoluteString.trimmingSuffix("/") + "/" + path) else { throw URLError(.badURL) }
        var request = URLRequest(url: url, timeoutInterval: 30)
        request.httpMethod = method.rawValue
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONEncoder().encode(body)
        }
        if let bearer { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await transport.data(for: request)
        guard (200..<300).contains(response.statusCode) else {
            guard let error = try? JSONDecoder().decode(ErrorResponse.self, from: data) else {
                throw LatchkeyClientError.unexpectedAnswer(status: response.statusCode)
            }
            throw LatchkeyClientError.refused(
                status: response.statusCode,
                error,
                retryAfter: response.value(forHTTPHeaderField: "Retry-After").flatMap { Int($0) }
            )
        }
        if Response.self == Empty.self { return Empty() as! Response }
        do {
            return try WireFormat.makeDecoder().decode(Response.self, from: data)
        } catch {
            throw LatchkeyClientError.unexpectedAnswer(status: response.statusCode)
        }
    }

    private enum HTTPMethod: String {
        case GET, POST, PATCH, DELETE
    }

    /// No body: a request without one, or an answer whose body is not needed.
    private struct Empty: Codable {}
}

/// How a login ended.
public enum SignInResult: Sendable, Equatable {
    case signedIn(UserResponse)
    /// The account has a second factor: call `verifyMFA(code:)` or `verifyMFA(recoveryCode:)` within five minutes.
    /// `methods` says what the account can answer with (`totp`, `recovery`).
    case secondFactorRequired(methods: [String])

    /// The user, once signed in.
    public var user: UserResponse? {
        if case .signedIn(let user) = self { return user }
        return nil
    }
}

/// `POST /auth/login`'s two answers.
private enum LoginAnswer: Decodable {
    case tokens(TokenPairResponse)
    case challenge(MFAChallengeResponse)

    init(from decoder: any Decoder) throws {
        if let challenge = try? MFAChallengeResponse(from: decoder), challenge.mfaRequired {
            self = .challenge(challenge)
        } else {
            self = .tokens(try TokenPairResponse(from: decoder))
        }
    }
}

extension StoredTokens {
    /// Tokens just received, the access token good for `expiresIn` seconds from now.
    fileprivate static func received(accessToken: String, refreshToken: String, expiresIn: Int) -> StoredTokens {
        let now = Date()
        return StoredTokens(
            accessToken: accessToken,
            refreshToken: refreshToken,
            accessTokenExpiresAt: now + Double(expiresIn),
            accessTokenReceivedAt: now
        )
    }
}

/// Why a call failed.
public enum LatchkeyClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server refused, with the contract's error (`error.error` is its code) and, for a 429 or 503, `Retry-After`.
    case refused(status: Int, ErrorResponse, retryAfter: Int?)
    /// No tokens: never signed in, signed out, or the session ended (the refresh token was refused).
    case signedOut
    /// An answer that is not the contract's (a proxy's error page, say).
    case unexpectedAnswer(status: Int)

    /// The contract's error code of a refusal.
    public var code: ErrorCode? {
        if case .refused(_, let error, _) = self { return error.error }
        return nil
    }

    public var description: String {
        switch self {
        case .refused(let status, let error, _): "\(error.message) (\(error.error.rawValue), HTTP \(status))"
        case .signedOut: "Not signed in"
        case .unexpectedAnswer(let status): "An answer that is not Latchkey's (HTTP \(status))"
        }
    }

    /// A refresh refused like this will never work again: the client signs out.
    var endsTheSession: Bool {
        [.invalidRefreshToken, .refreshTokenReused, .accountDisabled].contains(code)
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
