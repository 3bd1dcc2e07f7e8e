import Configuration
import Foundation
import Hummingbird
import HummingbirdTesting
import LatchkeyAPI
import LatchkeyServer
import LatchkeyTestSupport
import Logging
import NIOCore
import Testing

/// A fresh server on its own database, configured through environment variable names exactly as a user would.
struct TestApp {
    let database: TestDatabase
    let environment: [String: String]

    init(_ environment: [String: String] = [:], database: TestDatabase? = nil) {
        self.database = database ?? TestDatabase()
        self.environment = self.database.environment.merging([
            "LATCHKEY_BCRYPT_COST": "4",
            // Most suites test other things than the email flows; MailTests turns it back on.
            "LATCHKEY_REQUIRE_EMAIL_VERIFICATION": "false",
            // Suites send many requests from one IP; RateLimitTests sets the budgets it tests.
            "LATCHKEY_RATE_LIMIT_LOGIN": "off", "LATCHKEY_RATE_LIMIT_REGISTER": "off", "LATCHKEY_RATE_LIMIT_EMAIL": "off",
            "LATCHKEY_RATE_LIMIT_TOKEN": "off", "LATCHKEY_RATE_LIMIT_REFRESH": "off", "LATCHKEY_MAIL_PER_RECIPIENT": "off",
        ]) { $1 }.merging(environment) { $1 }
    }

    var reader: ConfigReader {
        ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment))
    }

    func build() async throws -> some ApplicationProtocol {
        var logger = Logger(label: "latchkey-test")
        logger.logLevel = .warning
        return try await buildApplication(reader: reader, logger: logger)
    }

    /// Runs `body` against the server listening on a real socket (set `LATCHKEY_PORT` to 0).
    func runLive<Value: Sendable>(_ body: @Sendable (Client) async throws -> Value) async throws -> Value {
        try await build().test(.live) { client in try await body(Client(client: client)) }
    }

    /// Runs `body` against the real router.
    func run<Value: Sendable>(_ body: @Sendable (Client) async throws -> Value) async throws -> Value {
        try await build().test(.router) { client in try await body(Client(client: client)) }
    }
}

/// A thin JSON client over Hummingbird's test client.
struct Client: Sendable {
    let client: any TestClientProtocol

    @discardableResult
    func request(
        _ method: HTTPRequest.Method,
        _ path: String,
        json: [String: any Sendable]? = nil,
        body: String? = nil,
        bearer: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        var buffer: ByteBuffer?
        if let json {
            let data = try JSONSerialization.data(withJSONObject: json)
            buffer = ByteBuffer(bytes: data)
        } else if let body {
            buffer = ByteBuffer(string: body)
        }
        if buffer != nil && headers[.contentType] == nil { headers[.contentType] = "application/json" }
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        return try await client.executeRequest(uri: path, method: method, headers: headers, body: buffer)
    }

    /// Registers a user with a valid password and returns the token pair (verification is off by default).
    @discardableResult
    func register(
        email: String = "user-\(UUID())@example.com",
        password: String = "Tr1cky!pass",
        name: String = "Ada"
    ) async throws
        -> RegisterResponse
    {
        let response = try await request(.post, "/auth/register", json: ["email": email, "password": password, "name": name])
        #expect(response.status == .created)
        return try response.decode(RegisterResponse.self)
    }

    func login(email: String, password: String = "Tr1cky!pass") async throws -> TestResponse {
        try await request(.post, "/auth/login", json: ["email": email, "password": password])
    }

    /// Takes an optional token, as the responses carry it (absent in cookie mode); nil sends an empty string.
    func refresh(_ token: String?) async throws -> TestResponse {
        try await request(.post, "/auth/refresh", json: ["refreshToken": token ?? ""])
    }
}

extension TestResponse {
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try WireFormat.makeDecoder().decode(T.self, from: Data(buffer: body))
    }

    var error: ErrorResponse? { try? decode(ErrorResponse.self) }

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
    }
}
