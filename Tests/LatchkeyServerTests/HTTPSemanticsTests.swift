import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyAPI
import Testing

/// RFC 9110 method semantics, cache headers of token answers, and connections that hold the server up.
@Suite struct HTTPSemanticsTests {
    @Test func headAnswersLikeGetWithoutABody() async throws {
        try await TestApp(["LATCHKEY_PORT": "0"]).runLive { client in
            let port = try #require(client.client.port)
            let get = try RawConnection(port: port)
            get.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            let getAnswer = try await get.receive(timeout: .seconds(5), until: #"{"status":"ok"}"#).text
            let head = try RawConnection(port: port)
            head.send("HEAD /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            // The next response on the connection follows the HEAD's headers at once: no body came between.
            let answers = try await head.receive(timeout: .seconds(5), until: #"{"status":"ok"}"#).text
            let headAnswer = try #require(answers.components(separatedBy: "\r\n\r\n").first)
            #expect(headAnswer.hasPrefix("HTTP/1.1 200"))
            #expect(headAnswer.contains("Content-Length: 15"))
            #expect(getAnswer.contains("Content-Length: 15"))
            #expect(answers.components(separatedBy: "\r\n\r\n").dropFirst().first?.hasPrefix("HTTP/1.1 200") == true)
            // HEAD of a path that has no GET is a 405 like any other method.
            let headOfPost = try RawConnection(port: port)
            headOfPost.send("HEAD /auth/login HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await headOfPost.receive(timeout: .seconds(5), until: "\r\n\r\n").text.hasPrefix("HTTP/1.1 405"))
        }
    }

    @Test func otherMethodsOnKnownPathsAre405WithAllow() async throws {
        try await TestApp().run { client in
            for method in ["TRACE", "PROPFIND", "PUT", "OPTIONS"] {
                let health = try await client.request(HTTPRequest.Method(method)!, "/health")
                #expect(health.status == .methodNotAllowed, "\(method)")
                #expect(health.headers[.allow] == "GET, HEAD", "\(method)")
                #expect(health.error?.error == .methodNotAllowed, "\(method)")
                let login = try await client.request(HTTPRequest.Method(method)!, "/auth/login")
                #expect(login.headers[.allow] == "POST", "\(method)")
            }
            #expect(try await client.request(.init("PROPFIND")!, "/nowhere").status == .notFound)
        }
    }

    @Test func tokenAnswersAreNeverCached() async throws {
        try await TestApp().run { client in
            let register = try await client.request(
                .post,
                "/auth/register",
                json: ["email": "cache@example.com", "password": "Tr1cky!pass", "name": "C"]
            )
            let login = try await client.login(email: "cache@example.com")
            let refresh = try await client.refresh(try login.decode(TokenPairResponse.self).refreshToken)
            for response in [register, login, refresh] {
                #expect(response.headers[.cacheControl] == "no-store")
                #expect(response.headers[HTTPField.Name("Pragma")!] == "no-cache")
            }
        }
    }

    @Test func halfSentRequestsAndIdleConnectionsAreClosed() async throws {
        try await TestApp(["LATCHKEY_PORT": "0", "LATCHKEY_REQUEST_HEADER_TIMEOUT": "1s", "LATCHKEY_IDLE_TIMEOUT": "6s"]).runLive { client in
            let port = try #require(client.client.port)
            let started = ContinuousClock.now
            let halfSent = try (0..<300).map { _ in try RawConnection(port: port) }
            for connection in halfSent { connection.send("GET /health HTTP/1.1\r\nHost: x\r\n") }
            let idle = try RawConnection(port: port)
            idle.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await idle.receive(timeout: .seconds(10), until: #"{"status":"ok"}"#).text.contains("200 OK"))
            let answered = ContinuousClock.now
            // Every half-sent request is closed once it has sent nothing for a second (generous bounds: the
            // whole suite shares two cores); without the timeout they would stay open for good.
            for connection in halfSent {
                #expect(try await connection.receive(timeout: .seconds(10)).closed)
            }
            #expect(ContinuousClock.now - started < .seconds(10))
            // The head's timeout is a deadline: a byte every 300 ms does not keep a head open past it.
            let trickle = try RawConnection(port: port)
            let trickleStarted = ContinuousClock.now
            var trickleClosed = false
            for byte in "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + String(repeating: "a", count: 40) {
                trickle.send(String(byte))
                if try await trickle.receive(timeout: .milliseconds(300)).closed {
                    trickleClosed = true
                    break
                }
            }
            #expect(trickleClosed)
            #expect(ContinuousClock.now - trickleStarted < .seconds(6))
            // The idle keep-alive connection outlives them, and is closed after its own timeout.
            if ContinuousClock.now - answered < .seconds(5) {
                #expect(try await idle.receive(timeout: .milliseconds(300)).closed == false)
            }
            #expect(try await idle.receive(timeout: .seconds(10)).closed)
        }
    }

    /// An answer sent before the request body has all arrived (415 here) leaves the connection timed like any other.
    /// The stalled body's timeout is long enough for a loaded machine to answer within it: at 1 s, CI's parallel
    /// suite once closed the connection before its 415 was written.
    @Test func earlyAnswersDoNotStopTheTimeouts() async throws {
        try await TestApp(["LATCHKEY_PORT": "0", "LATCHKEY_REQUEST_HEADER_TIMEOUT": "5s", "LATCHKEY_IDLE_TIMEOUT": "2s"]).runLive { client in
            let port = try #require(client.client.port)
            let connection = try RawConnection(port: port)
            connection.send("POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nabc")
            #expect(try await connection.receive(timeout: .seconds(10), until: "UNSUPPORTED_MEDIA_TYPE").text.contains("415"))
            connection.send("defghij")
            #expect(try await connection.receive(timeout: .seconds(10)).closed)
        }
    }

    /// Sessions record the client address: the peer, or behind a trusted proxy the right-most untrusted
    /// `X-Forwarded-For` hop. Forwarding headers from any other peer change nothing.
    @Test(arguments: [("", "127.0.0.1"), ("127.0.0.0/8", "198.51.100.7")])
    func clientAddressBehindProxies(trusted: String, recorded: String) async throws {
        try await TestApp(["LATCHKEY_PORT": "0", "LATCHKEY_TRUSTED_PROXIES": trusted]).runLive { client in
            let pair = try await client.register(email: "proxied-\(UUID())@example.com")
            let forwarded: HTTPFields = [
                .init("X-Forwarded-For")!: "203.0.113.1, 198.51.100.7", .init("X-Real-IP")!: "203.0.113.2", .init("Forwarded")!: "for=203.0.113.3",
            ]
            let login = try await client.request(
                .post,
                "/auth/login",
                json: ["email": pair.user.email, "password": "Tr1cky!pass"],
                headers: forwarded
            )
            let sessions = try await client.request(.get, "/auth/sessions", bearer: try login.decode(TokenPairResponse.self).accessToken)
            let newest = try #require(try sessions.decode(SessionListResponse.self).sessions.first)
            #expect(newest.ip == recorded)
        }
    }
}
