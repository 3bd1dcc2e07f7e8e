import AsyncHTTPClient
import Foundation
import LatchkeyAPI
import LatchkeyClient
import LatchkeyTestSupport
import Testing

/// `LatchkeyClient` against a real `latchkey serve`: the account routes, single-flight refresh, and one sign-out when
/// the session ends.
@Suite struct LatchkeyClientTests {
    static let settings = ["LATCHKEY_REQUIRE_EMAIL_VERIFICATION": "false", "LATCHKEY_REFRESH_REUSE_GRACE": "0"]

    static func client(_ server: ServerProcess, store: any TokenStore = InMemoryTokenStore(), margin: TimeInterval = 30) -> LatchkeyClient {
        LatchkeyClient(serverURL: URL(string: server.base)!, store: store, refreshMargin: margin)
    }

    /// `POST /auth/refresh` requests the server has answered, from its metrics.
    static func refreshes(_ server: ServerProcess) async throws -> Double {
        try await server.metrics().split(separator: "\n")
            .filter { $0.hasPrefix("hb_requests{") && $0.contains(#"http_route="/auth/refresh""#) }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }

    @Test func accountRoutes() async throws {
        let server = try ServerProcess(Self.settings)
        defer { server.terminate() }
        try await server.waitUntilHealthy()
        let client = Self.client(server)
        let email = "client-\(UUID())@example.com".lowercased()
        let registered = try await client.register(email: email, password: "Tr1cky!pass", name: "Ada")
        #expect(registered.user.email == email && registered.accessToken != nil)
        #expect(try await client.me().name == "Ada")
        #expect(try await client.updateProfile(name: "Ada L.").name == "Ada L.")
        try await client.login(email: email, password: "Tr1cky!pass")
        #expect(try await client.sessions().sessions.count == 2)
        try await client.changePassword(current: "Tr1cky!pass", new: "Brand!new42")
        #expect(try await client.sessions().sessions.count == 1)
        try await client.refresh()
        // Your own API, with the same token handling: here the server's own route.
        let response = try await client.authorizedRequest(HTTPClientRequest(url: server.base + "/auth/me"))
        #expect(response.status == .ok)

        await #expect {
            try await client.login(email: email, password: "Wr0ng!pass")
        } throws: { error in
            (error as? LatchkeyClientError)?.code == .invalidCredentials
        }
        try await client.forgotPassword(email: email)
        try await client.logout()
        await #expect(throws: LatchkeyClientError.signedOut) { try await client.me() }
    }

    /// Fifty calls that find the access token expired cause one refresh, and all go on with its result; when the server
    /// says the token expired although the client thought it good, the same.
    @Test func concurrentCallsShareOneRefresh() async throws {
        let server = try ServerProcess(Self.settings.merging(["LATCHKEY_ACCESS_TOKEN_TTL": "3s"]) { $1 })
        defer { server.terminate() }
        try await server.waitUntilHealthy()
        let store = InMemoryTokenStore()
        let client = Self.client(server, store: store, margin: 0)
        try await client.register(email: "flight-\(UUID())@example.com", password: "Tr1cky!pass", name: "F")
        var tokens = try #require(await store.load())
        tokens.accessTokenExpiresAt = .distantPast
        await store.save(tokens)

        let before = try await Self.refreshes(server)
        let names = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<50 { group.addTask { try await client.me().name } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(names == Array(repeating: "F", count: 50))
        #expect(try await Self.refreshes(server) - before == 1)

        // The client believes its token good for an hour; the server says it has expired.
        try await Task.sleep(for: .seconds(4))
        tokens = try #require(await store.load())
        tokens.accessTokenExpiresAt = Date() + 3600
        await store.save(tokens)
        let second = try await Self.refreshes(server)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<50 { group.addTask { _ = try await client.me() } }
            try await group.waitForAll()
        }
        #expect(try await Self.refreshes(server) - second == 1)
    }

    /// A refresh token spent elsewhere (stolen, say): the one refresh is refused as reuse, the client signs out once and
    /// every waiting call gets that error.
    @Test func aRefusedRefreshSignsOutOnce() async throws {
        let server = try ServerProcess(Self.settings)
        defer { server.terminate() }
        try await server.waitUntilHealthy()
        let store = InMemoryTokenStore()
        let client = Self.client(server, store: store)
        try await client.register(email: "stolen-\(UUID())@example.com", password: "Tr1cky!pass", name: "S")
        var tokens = try #require(await store.load())
        #expect(try await server.post("/auth/refresh", ["refreshToken": tokens.refreshToken]) == 200)
        tokens.accessTokenExpiresAt = .distantPast
        await store.save(tokens)

        let before = try await Self.refreshes(server)
        let errors = await withTaskGroup(of: LatchkeyClientError?.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    do {
                        _ = try await client.me()
                        return nil
                    } catch {
                        return error as? LatchkeyClientError
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(errors.allSatisfy { $0?.code == .refreshTokenReused })
        #expect(try await Self.refreshes(server) - before == 1)
        #expect(await store.load() == nil)
        await #expect(throws: LatchkeyClientError.signedOut) { try await client.me() }
    }

    @Test func fileStoreIsTheOwnersOnly() async throws {
        let url = FileManager.default.temporaryDirectory.appending(path: "tokens-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: url) }
        let store = FileTokenStore(url: url)
        let tokens = StoredTokens(accessToken: "a", refreshToken: "r", accessTokenExpiresAt: Date(timeIntervalSince1970: 1_800_000_000))
        try await store.save(tokens)
        try await store.save(tokens)
        #expect(try await store.load() == tokens)
        let mode = try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        try await store.save(nil)
        #expect(try await store.load() == nil)
    }
}
