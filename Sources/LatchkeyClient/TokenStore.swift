import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The tokens a client holds between launches.
public struct StoredTokens: Codable, Sendable, Equatable {
    public var accessToken: String
    public var refreshToken: String
    /// When the access token stops working (its `expiresIn` after it was issued).
    public var accessTokenExpiresAt: Date
    /// When the client received it; nil in tokens stored by an earlier version.
    public var accessTokenReceivedAt: Date?

    public init(accessToken: String, refreshToken: String, accessTokenExpiresAt: Date, accessTokenReceivedAt: Date? = nil) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.accessTokenExpiresAt = accessTokenExpiresAt
        self.accessTokenReceivedAt = accessTokenReceivedAt
    }

    /// Refreshed this long before it expires: `margin`, but at most half the token's life, so that tokens shorter-lived
    /// than the margin are not refreshed at every call.
    func refreshLead(margin: TimeInterval) -> TimeInterval {
        guard let received = accessTokenReceivedAt else { return margin }
        return max(0, min(margin, accessTokenExpiresAt.timeIntervalSince(received) / 2))
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

    /// Nil when there is no file; throws when there is one that cannot be read.
    public func load() throws -> StoredTokens? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try JSONDecoder().decode(StoredTokens.self, from: Data(contentsOf: url))
    }

    /// Written to a new file created with mode 0600 (never readable by others, not even for a moment), flushed, and
    /// moved into place: a crash leaves the old file or the new one.
    public func save(_ tokens: StoredTokens?) throws {
        guard let tokens else {
            guard FileManager.default.fileExists(atPath: url.path) else { return }
            return try FileManager.default.removeItem(at: url)
        }
        let temporary = FilePath(url.path + ".\(UUID().uuidString).tmp")
        let file = try FileDescriptor.open(temporary, .writeOnly, options: [.create, .exclusiveCreate], permissions: [.ownerReadWrite])
        do {
            try file.closeAfter {
                _ = try file.writeAll(try JSONEncoder().encode(tokens))
                #if canImport(Glibc)
                guard fsync(file.rawValue) == 0 else { throw Errno(rawValue: errno) }
                #endif
            }
            guard rename(temporary.string, url.path) == 0 else { throw Errno(rawValue: errno) }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary.string)
            throw error
        }
    }
}

#if canImport(Security)
import Security

/// Tokens in the Keychain (Apple platforms), as one generic password item of `service` and `account`, readable after
/// the first unlock (so background refreshes work while the device is locked). An app and its extensions share it
/// through `accessGroup`, a keychain access group they all have.
public struct KeychainTokenStore: TokenStore {
    public let service: String
    public let account: String
    public let accessGroup: String?

    public init(service: String, account: String = "latchkey", accessGroup: String? = nil) {
        self.service = service
        self.account = account
        self.accessGroup = accessGroup
    }

    private var query: [String: Any] {
        var query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword, kSecAttrService as String: service, kSecAttrAccount as String: account,
            kSecUseDataProtectionKeychain as String: true,
        ]
        if let accessGroup { query[kSecAttrAccessGroup as String] = accessGroup }
        return query
    }

    public func load() throws -> StoredTokens? {
        var result: AnyObject?
        let status = SecItemCopyMatching(query.merging([kSecReturnData as String: true]) { $1 } as CFDictionary, &result)
        guard status != errSecItemNotFound else { return nil }
        guard status == errSecSuccess, let data = result as? Data else { throw NSError(domain: NSOSStatusErrorDomain, code: Int(status)) }
        return try JSONDecoder().decode(StoredTokens.self, from: data)
    }

    /// Updates the item in place (or adds it), so that no moment is without tokens.
    public func save(_ tokens: StoredTokens?) throws {
        guard let tokens else {
            let status = SecItemDelete(query as CFDictionary)
            guard status == errSecSuccess || status == errSecItemNotFound else { throw NSError(domain: NSOSStatusErrorDomain, code: Int(status)) }
            return
        }
        let attributes: [String: Any] = [
            kSecValueData as String: try JSONEncoder().encode(tokens), kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlock,
        ]
        var status = SecItemUpdate(query as CFDictionary, attributes as CFDictionary)
        if status == errSecItemNotFound { status = SecItemAdd(query.merging(attributes) { $1 } as CFDictionary, nil) }
        guard status == errSecSuccess else { throw NSError(domain: NSOSStatusErrorDomain, code: Int(status)) }
    }
}
#endif
