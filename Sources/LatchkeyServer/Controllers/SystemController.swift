import Foundation
import Hummingbird
import JWTKit
import LatchkeyAPI
import LatchkeyCore
import Prometheus

/// Health, readiness, keys, metrics and the API description.
struct SystemController {
    let database: any StorageBackend
    let issuer: TokenIssuer
    let metrics: PrometheusCollectorRegistry

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("health") { _, _ in StatusResponse(status: "ok") }
        router.get("ready", use: ready)
        router.get(".well-known/jwks.json", use: jwks)
        router.get("metrics", use: renderMetrics)
        router.get("openapi.json", use: openAPI)
    }

    @Sendable func ready(_ request: Request, context: AppRequestContext) async throws -> StatusResponse {
        do {
            try await database.ping()
        } catch {
            context.logger.warning("database not ready", metadata: ["error": "\(String(describing: error))"])
            throw AuthError.serviceUnavailable
        }
        return StatusResponse(status: "ok")
    }

    @Sendable func jwks(_ request: Request, context: AppRequestContext) throws -> Response {
        let data = try JSONEncoder().encode(issuer.jwks)
        return Response(
            status: .ok,
            headers: [.contentType: "application/json", .cacheControl: "public, max-age=300"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    @Sendable func renderMetrics(_ request: Request, context: AppRequestContext) -> Response {
        var buffer: [UInt8] = []
        metrics.emit(into: &buffer)
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: buffer))
        )
    }

    @Sendable func openAPI(_ request: Request, context: AppRequestContext) throws -> Response {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json") else { throw AuthError.notFound }
        let data = try Data(contentsOf: url)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
