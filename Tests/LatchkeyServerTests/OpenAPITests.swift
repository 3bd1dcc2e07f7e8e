import Foundation
import Hummingbird
import HummingbirdTesting
import LatchkeyAPI
import LatchkeyCore
import Logging
import Testing

@testable import LatchkeyServer

/// The OpenAPI document (written by `scripts/openapi.py`; `scripts/test` checks that the file is its output) held to
/// the code: the routes the router serves, and the error codes with their statuses.
@Suite struct OpenAPITests {
    @Test func describesEveryRouteTheRouterServesAndNoOther() async throws {
        let app = TestApp()
        let document = try await Self.document(served: app)
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let described = Set(paths.flatMap { path, operations in operations.keys.map { "\($0) \(path)" } })

        let configuration = try await LatchkeyConfiguration(reader: app.reader)
        let services = try await LatchkeyServices.open(configuration: configuration, logger: Logger(label: "openapi-test"))
        let router = buildRouter(configuration: configuration, services: services, metrics: .init())
        var served = Set(router.routes.map { "\($0.method.rawValue.lowercased()) \(Self.openAPIPath($0.path.description))" })
        // `.autoGenerateHeadEndpoints`: HEAD of every GET route (RFC 9110).
        served.formUnion(served.filter { $0.hasPrefix("get ") }.map { "head " + $0.dropFirst("get ".count) })
        #expect(described.subtracting(served).sorted() == [], "described but not served")
        #expect(served.subtracting(described).sorted() == [], "served but not described")
    }

    /// Every error code the document names is LatchkeyAPI's, under the status LatchkeyAPI gives it.
    @Test func errorCodesAndStatusesAreLatchkeyAPIs() async throws {
        let document = try await Self.document(served: TestApp())
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let enumerated = try #require((schemas["ErrorCode"] as? [String: Any])?["enum"] as? [String])
        #expect(enumerated == ErrorCode.allCases.map(\.rawValue))

        let paths = try #require(document["paths"] as? [String: [String: [String: Any]]])
        var named = Set<ErrorCode>()
        for (path, operations) in paths {
            for (method, operation) in operations {
                let responses = try #require(operation["responses"] as? [String: [String: Any]])
                for (status, response) in responses where status >= "400" && (response["content"] as? [String: Any])?["application/json"] != nil {
                    let description = response["description"] as? String ?? ""
                    let codes = description.split { !($0.isUppercase || $0 == "_") }.compactMap { ErrorCode(rawValue: String($0)) }
                    #expect(!codes.isEmpty, "\(method) \(path) \(status) names no error code")
                    for code in codes {
                        #expect(String(code.status) == status, "\(method) \(path): \(code.rawValue) is a \(code.status), not a \(status)")
                        named.insert(code)
                    }
                }
            }
        }
        // 405 is answered by every path and described once, in the document's description.
        #expect(Set(ErrorCode.allCases).subtracting(named) == [.methodNotAllowed])
    }

    /// The audit event types and `amr` values the document lists are the code's.
    @Test func auditTypesAndAmrValuesAreTheCodes() async throws {
        let document = try await Self.document(served: TestApp())
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]])
        let event = try #require((schemas["AuditEvent"]?["properties"] as? [String: [String: Any]])?["type"]?["enum"] as? [String])
        #expect(event == AuditEvent.Kind.all.map(\.rawValue))
        let amr = try #require((schemas["Amr"]?["items"] as? [String: Any])?["enum"] as? [String])
        #expect(amr == AuthenticationMethod.allCases.map(\.rawValue))
    }

    static func document(served app: TestApp) async throws -> [String: Any] {
        let body = try await app.run { client in Data(buffer: try await client.request(.get, "/openapi.json").body) }
        return try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
    }

    /// `/auth/sessions/:id` → `/auth/sessions/{id}`.
    static func openAPIPath(_ routerPath: String) -> String {
        let path = routerPath.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
        return "/" + path
    }
}
