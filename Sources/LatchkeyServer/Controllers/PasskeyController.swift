import Foundation
import Hummingbird
import LatchkeyAPI
import LatchkeyCore

/// The signed-in account's passkeys: registration, the list, renaming and removal. Options carry a challenge, so they
/// are `no-store`.
struct PasskeyController {
    let passkeys: PasskeyService

    var endpoints: RouteCollection<AuthenticatedContext> {
        RouteCollection(context: AuthenticatedContext.self)
            .post("passkeys/register/options", use: registrationOptions)
            .post("passkeys/register", use: register)
            .get("passkeys", use: list)
            .patch("passkeys/:id", use: rename)
            .delete("passkeys/:id", use: remove)
    }

    @Sendable func registrationOptions(
        _ request: Request,
        context: AuthenticatedContext
    ) async throws -> EditedResponse<PublicKeyCredentialCreationOptionsJSON> {
        let input = try await request.decode(as: ConfirmationRequest.self, context: context)
        return .noStore(try await passkeys.registrationOptions(context.identity, input.confirmation, client: context.client(request)))
    }

    @Sendable func register(_ request: Request, context: AuthenticatedContext) async throws -> EditedResponse<PasskeyResponse> {
        let input = try await request.decode(as: PasskeyRegistrationRequest.self, context: context)
        guard let credential = input.credential else { throw AuthError.validation(field: "credential", "is required") }
        let passkey = try await passkeys.register(
            context.identity,
            credential,
            name: input.name,
            client: context.client(request),
            logger: context.logger
        )
        return EditedResponse(status: .created, response: passkey.response)
    }

    @Sendable func list(_ request: Request, context: AuthenticatedContext) async throws -> PasskeyListResponse {
        PasskeyListResponse(passkeys: try await passkeys.passkeys(of: context.identity.userID).map(\.response))
    }

    @Sendable func rename(_ request: Request, context: AuthenticatedContext) async throws -> PasskeyResponse {
        let id = try Self.id(context)
        let input = try await request.decode(as: PasskeyRenameRequest.self, context: context)
        return try await passkeys.rename(context.identity, id: id, name: input.name).response
    }

    @Sendable func remove(_ request: Request, context: AuthenticatedContext) async throws -> HTTPResponse.Status {
        let id = try Self.id(context)
        let input = try await request.decode(as: ConfirmationRequest.self, context: context)
        try await passkeys.remove(context.identity, id: id, input.confirmation, client: context.client(request), logger: context.logger)
        return .noContent
    }

    private static func id(_ context: AuthenticatedContext) throws -> UUID {
        guard let id = context.parameters.get("id", as: UUID.self) else { throw AuthError(.notFound, "No such passkey") }
        return id
    }
}

extension Passkey {
    var response: PasskeyResponse {
        PasskeyResponse(
            id: id.uuidString.lowercased(),
            name: name,
            createdAt: createdAt,
            lastUsedAt: lastUsedAt,
            backupEligible: backupEligible,
            backedUp: backedUp,
            transports: transports,
            aaguid: aaguid.uuidString.lowercased()
        )
    }
}

extension PublicKeyCredentialCreationOptionsJSON: ResponseEncodable {}
extension PublicKeyCredentialRequestOptionsJSON: ResponseEncodable {}
extension PasskeyResponse: ResponseEncodable {}
extension PasskeyListResponse: ResponseEncodable {}
