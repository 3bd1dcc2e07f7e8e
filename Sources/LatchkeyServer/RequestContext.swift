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
}

/// A context that knows the client's address (`AppRequestContext.clientIP`, copied into the child contexts), and reads
/// and writes JSON as the contract says.
public protocol ClientAddressContext: RequestContext where Decoder == JSONBodyDecoder, Encoder == JSONEncoder {
    var clientIP: String? { get }
}

extension ClientAddressContext {
    public var requestDecoder: JSONBodyDecoder { JSONBodyDecoder() }
    public var responseEncoder: JSONEncoder { WireFormat.encoder }

    /// Who sent the request and from where, as the sessions it opens and the audit log keep it; `actor` is the
    /// administrator acting on another account.
    func client(_ request: Request, actor: UUID? = nil) -> ClientInfo {
        ClientInfo(userAgent: request.headers[.userAgent], ip: clientIP, requestID: id, actorID: actor)
    }
}

/// Who may use the routes of an `IdentifiedContext`.
public protocol Admission: Sendable {
    /// Throws the refusal for an identity that may not.
    static func admit(_ identity: Identity) throws
}

/// Any account with a live session.
public enum AnyAccount: Admission {
    public static func admit(_ identity: Identity) throws {}
}

/// Active accounts whose role is `admin`, read from the database (so a demotion takes effect at once).
public enum Administrators: Admission {
    public static func admit(_ identity: Identity) throws {
        guard identity.user.role == .admin else { throw AuthError(.forbidden, "This route is for administrators") }
    }
}

/// The context of the routes behind `BearerAuthenticator`: it exists only with a verified identity that `Admitted`
/// lets in, so handlers never check.
public struct IdentifiedContext<Admitted: Admission>: ChildRequestContext, ClientAddressContext {
    public var coreContext: CoreRequestContextStorage
    public let identity: Identity
    public var maxUploadSize: Int
    public var clientIP: String?

    public init(context: AppRequestContext) throws {
        guard let identity = context.identity else { throw AuthError.tokenMissing }
        try Admitted.admit(identity)
        self.coreContext = context.coreContext
        self.identity = identity
        self.maxUploadSize = context.maxUploadSize
        self.clientIP = context.clientIP
    }
}

/// The context of the account's own protected routes.
public typealias AuthenticatedContext = IdentifiedContext<AnyAccount>
/// The context of `/admin` routes.
public typealias AdminContext = IdentifiedContext<Administrators>

extension IdentifiedContext where Admitted == Administrators {
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
