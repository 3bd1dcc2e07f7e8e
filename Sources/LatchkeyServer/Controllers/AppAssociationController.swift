import Foundation
import Hummingbird
import LatchkeyCore

/// The documents that let native apps use the relying party's passkeys: Apple's `apple-app-site-association` and
/// Android's Digital Asset Links. Each is 404 while its apps are not configured.
struct AppAssociationController {
    let configuration: PasskeyConfiguration

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get(".well-known/apple-app-site-association", use: appleAppSiteAssociation)
        router.get(".well-known/assetlinks.json", use: assetLinks)
    }

    @Sendable func appleAppSiteAssociation(_ request: Request, context: AppRequestContext) throws -> Response {
        let apps = configuration.appleAppIDs
        guard !apps.isEmpty else { throw AuthError.notFound }
        let document: [String: Any] = [
            "webcredentials": ["apps": apps],
            "applinks": ["details": [["appIDs": apps, "components": [["/": "/auth/*"]]]]],
        ]
        return try Self.json(document)
    }

    @Sendable func assetLinks(_ request: Request, context: AppRequestContext) throws -> Response {
        let apps = configuration.androidApps
        guard !apps.isEmpty else { throw AuthError.notFound }
        let statements: [[String: Any]] = apps.map { app in
            [
                "relation": ["delegate_permission/common.get_login_creds", "delegate_permission/common.handle_all_urls"],
                "target": ["namespace": "android_app", "package_name": app.package, "sha256_cert_fingerprints": app.fingerprints],
            ]
        }
        return try Self.json(statements)
    }

    /// `/` written unescaped, as the platforms' validators read it.
    private static func json(_ object: Any) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
