import Foundation
import Hummingbird
import HummingbirdTesting
import LatchkeyAPI
import Testing

@Suite struct RefreshRotationTests {
    @Test func concurrentRefreshesWithinGraceShareOneSuccessor() async throws {
        try await TestApp().run { client in
            let pair = try await client.register()
            let token = pair.refreshToken!
            let successors = try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<24 {
                    group.addTask {
                        let response = try await client.refresh(token)
                        #expect(response.status == .ok, "\(String(buffer: response.body))")
                        return response.status == .ok ? try response.decode(TokenPairResponse.self).refreshToken : nil
                    }
                }
                return try await group.reduce(into: [String?]()) { $0.append($1) }
            }
            #expect(successors.allSatisfy { $0 != nil })
            #expect(Set(successors.compactMap { $0 }).count == 1)
            // The successor is live and rotates on.
            let next = try await client.refresh(successors[0]!)
            #expect(next.status == .ok)
            // Now the first token is two rotations old: reuse at once, the session dies.
            let reuse = try await client.refresh(token)
            #expect(reuse.status == .unauthorized)
            #expect(reuse.error?.error == .refreshTokenReused)
            let latest = try next.decode(TokenPairResponse.self)
            #expect(try await client.refresh(latest.refreshToken).error?.error == .invalidRefreshToken)
            #expect(try await client.request(.get, "/auth/me", bearer: latest.accessToken).error?.error == .tokenInvalid)
        }
    }

    @Test func reuseAfterGraceRevokesTheSession() async throws {
        try await TestApp(["LATCHKEY_REFRESH_REUSE_GRACE": "1s"]).run { client in
            let pair = try await client.register()
            let rotated = try await client.refresh(pair.refreshToken!).decode(TokenPairResponse.self)
            try await Task.sleep(for: .milliseconds(1500))
            let reuse = try await client.refresh(pair.refreshToken!)
            #expect(reuse.error?.error == .refreshTokenReused)
            #expect(try await client.refresh(rotated.refreshToken).error?.error == .invalidRefreshToken)
            #expect(try await client.request(.get, "/auth/me", bearer: rotated.accessToken).error?.error == .tokenInvalid)
        }
    }

    @Test func graceZeroMeansImmediateReuse() async throws {
        try await TestApp(["LATCHKEY_REFRESH_REUSE_GRACE": "0"]).run { client in
            let pair = try await client.register()
            #expect(try await client.refresh(pair.refreshToken!).status == .ok)
            #expect(try await client.refresh(pair.refreshToken!).error?.error == .refreshTokenReused)
        }
    }

    @Test func unknownAndExpiredRefreshTokens() async throws {
        try await TestApp(["LATCHKEY_REFRESH_TOKEN_TTL": "1"]).run { client in
            #expect(try await client.refresh("not-a-token").error?.error == .invalidRefreshToken)
            #expect(try await client.request(.post, "/auth/refresh", json: [:]).error?.details?.first?.field == "refreshToken")
            let pair = try await client.register()
            try await Task.sleep(for: .milliseconds(1100))
            #expect(try await client.refresh(pair.refreshToken!).error?.error == .invalidRefreshToken)
        }
    }

    @Test func expiredAccessToken() async throws {
        // 5 s: under the loaded parallel suite, 3 s once passed between the registration and its first request.
        try await TestApp(["LATCHKEY_ACCESS_TOKEN_TTL": "5s"]).run { client in
            let pair = try await client.register()
            #expect(try await client.request(.get, "/auth/me", bearer: pair.accessToken!).status == .ok)
            try await Task.sleep(for: .milliseconds(5200))
            let expired = try await client.request(.get, "/auth/me", bearer: pair.accessToken!)
            #expect(expired.status == .unauthorized)
            #expect(expired.error?.error == .tokenExpired)
        }
    }
}
