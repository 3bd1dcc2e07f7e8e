import Foundation
import Hummingbird
import LatchkeyAPI
import LatchkeyCore
import NIOCore

/// The context of every request. `identity` is set by `BearerAuthenticator` when a valid token was sent;
/// `clientIP` starts as the TCP peer and `ClientAddressMiddleware` corrects it behind a trusted proxy.
public struct AppRequestContext: ClientAddressContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Identity?
    public var maxUploadSize: Int
    public var clientIP: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientIP = source.channel.remoteAddress?.ipAddress
        maxUploadSize = 64 * 1024
    }

    public var requestDecoder: JSONBodyDecoder { JSONBodyDecoder() }
    public var responseEncoder: JSONEncoder { WireFormat.encoder }
}

/// A context that knows the client's address (`AppRequestContext.clientIP`, copied into the child contexts).
public protocol ClientAddressContext: RequestContext {
    var clientIP: String? { get }
}

extension ClientAddressContext {
    /// Who sent the request and from where, as the sessions it opens and the audit log keep it; `actor` is the
    /// administrator acting on another account.
    func client(_ request: Request, actor: UUID? = nil) -> ClientInfo {
        ClientInfo(userAgent: request.headers[.userAgent], ip: clientIP, requestID: id, actorID: actor)
    }
}

/// The context of protected routes: it exists only with a verified identity, so handlers never check.
public struct AuthenticatedContext: ChildRequestContext, ClientAddressContext {
    public var coreContext: CoreRequestContextStorage
    public let identity: Identity
    public var maxUploadSize: Int
    public var clientIP: String?

    public init(context: AppRequestContext) throws {
        guard let identity = context.identity else { throw AuthError.tokenMissing }
        self.coreContext = context.coreContext
        self.identity = identity
        self.maxUploadSize = context.maxUploadSize
        self.clientIP = context.clientIP
    }

    public var requestDecoder: JSONBodyDecoder { JSONBodyDecoder() }
    public var responseEncoder: JSONEncoder { WireFormat.encoder }
}

/// The context of `/admin` routes: it exists only for an access token of an active account whose role is `admin`
/// (read from the database, so a demotion takes effect at once).
public struct AdminContext: ChildRequestContext, ClientAddressContext {
    public var coreContext: CoreRequestContextStorage
    public let identity: Identity
    public var maxUploadSize: Int
    public var clientIP: String?

    public init(context: AppRequestContext) throws {
        guard let identity = context.identity else { throw AuthError.tokenMissing }
        guard identity.user.role == .admin else { throw AuthError(.forbidden, "This route is for administrators") }
        self.coreContext = context.coreContext
        self.identity = identity
        self.maxUploadSize = context.maxUploadSize
        self.clientIP = context.clientIP
    }

    public var requestDecoder: JSONBodyDecoder { JSONBodyDecoder() }
    public var responseEncoder: JSONEncoder { WireFormat.encoder }

    /// The request as the admin's own: the audit log names the admin as the actor.
    func actingClient(_ request: Request) -> ClientInfo {
        client(request, actor: identity.userID)
    }
}

extension WireFormat {
    static let encoder = makeEncoder()
    static let decoder = makeDecoder()
}

/// Decodes JSON bodies into the contract's errors: 415 for another media type, 413 past the size limit,
/// `INVALID_JSON` for a body that does not parse, repeats a member name or is not UTF-8, `VALIDATION_ERROR`
/// naming every bad field.
public struct JSONBodyDecoder: RequestDecoder {
    public func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        guard let contentType = request.headers[.contentType].flatMap(MediaType.init(from:)),
            contentType.isType(.applicationJson) || contentType.subType.hasSuffix("+json")
        else { throw AuthError(.unsupportedMediaType) }
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        guard body.withUnsafeReadableBytes({ StrictJSON.isStrict($0) }) else {
            throw AuthError(.invalidJSON, "The body is not valid JSON: a member name appears twice, or it is not UTF-8")
        }
        do {
            return try WireFormat.decoder.decode(T.self, from: body)
        } catch let error as FieldErrors {
            throw AuthError.validation(error.errors)
        } catch {
            throw AuthError(.invalidJSON)
        }
    }
}
