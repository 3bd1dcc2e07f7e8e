import Foundation

/// The tokens a client holds between launches.
public struct StoredTokens: Codable, Sendable, Equatable {
    public var accessToken: String
    public var refreshToken: String
    /// When the access token stops working (its `expiresIn` after it was issued).
    public var accessTokenExpiresAt: Date

    public init(accessToken: String, refreshToken: String, accessTokenExpiresAt: Date) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.accessTokenExpiresAt = accessTokenExpiresAt
    }
}

/// Where `LatchkeyClient` keeps its tokens. Several processes may share one store (an app and its widget): two of them
/// refreshing with the same refresh token within the server's grace window (`LATCHKEY_REFRESH_REUSE_GRACE`, 10 s) get
/// the same successor, so neither signs the other out.
public protocol TokenStore: Sendable {
    func load() async throws -> StoredTokens?
    /// Nil forgets the tokens (signed out).
    func save(_ tokens: StoredTokens?) async throws
}

/// Tokens for the life of the process.
///
/// ```swift
/// let client = LatchkeyClient(serverURL: url, store: InMemoryTokenStore())
/// ```
public actor InMemoryTokenStore: TokenStore {
    private var tokens: StoredTokens?

    public init(_ tokens: StoredTokens? = nil) {
        self.tokens = tokens
    }

    public func load() -> StoredTokens? { tokens }
    public func save(_ tokens: StoredTokens?) { self.tokens = tokens }
}

/// Tokens in a JSON file readable by its owner only (mode 0600), for command-line tools and daemons.
///
/// ```swift
/// let store = FileTokenStore(url: URL(fileURLWithPath: NSHomeDirectory()).appending(path: ".notes-tokens.json"))
/// ```
public struct FileTokenStore: TokenStore {
    public let url: URL

    public init(url: URL) {
        self.url = url
    }

    public func load() throws -> StoredTokens? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return try JSONDecoder().decode(StoredTokens.self, from: data)
    }

    /// Written to a new file of mode 0600 and moved into place, so the tokens are never readable by others, not even
    /// for a moment, and a crash leaves the old file or the new one.
    public func save(_ tokens: StoredTokens?) throws {
        guard let tokens else {
            try? FileManager.default.removeItem(at: url)
            return
        }
        let temporary = url.appendingPathExtension("\(UUID().uuidString).tmp")
        guard
            FileManager.default.createFile(atPath: temporary.path, contents: try JSONEncoder().encode(tokens), attributes: [.posixPermissions: 0o600])
        else { throw CocoaError(.fileWriteUnknown) }
        guard rename(temporary.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown)
        }
    }
}

#if canImport(Security)
import Security

/// Tokens in the Keychain (Apple platforms), as one generic password item of `service` and `account`.
public struct KeychainTokenStore: TokenStore {
    public let service: String
    public let account: String

    public init(service: String, account: String = "latchkey") {
        self.service = service
        self.account = account
    }

    private var query: [String: Any] {
        [kSecClass as String: kSecClassGenericPassword, kSecAttrService as String: service, kSecAttrAccount as String: account]
    }

    public func load() throws -> StoredTokens? {
        var result: AnyObject?
        let status = SecItemCopyMatching(query.merging([kSecReturnData as String: true]) { $1 } as CFDictionary, &result)
        guard status != errSecItemNotFound else { return nil }
        guard status == errSecSuccess, let data = result as? Data else { throw NSError(domain: NSOSStatusErrorDomain, code: Int(status)) }
        return try JSONDecoder().decode(StoredTokens.self, from: data)
    }

    public func save(_ tokens: StoredTokens?) throws {
        SecItemDelete(query as CFDictionary)
        guard let tokens else { return }
        let item = query.merging([kSecValueData as String: try JSONEncoder().encode(tokens)]) { $1 }
        let status = SecItemAdd(item as CFDictionary, nil)
        guard status == errSecSuccess else { throw NSError(domain: NSOSStatusErrorDomain, code: Int(status)) }
    }
}
#endif
