import Foundation
import LatchkeyAPI
import LatchkeyCore

// Domain values as the wire shows them: the one place the server maps Core's types to responses.

extension User {
    var response: UserResponse {
        UserResponse(
            id: id.uuidString.lowercased(),
            email: email,
            name: name,
            role: role.rawValue,
            emailVerified: emailVerified,
            createdAt: createdAt,
            updatedAt: updatedAt
        )
    }
}

extension UserSummary {
    /// Also what `latchkey users … --json` prints.
    public var response: AdminUserResponse {
        AdminUserResponse(
            user: user.response,
            disabled: user.disabledAt != nil,
            deletedAt: user.deletedAt,
            lastLoginAt: lastLoginAt,
            activeSessions: activeSessions,
            mfaEnabled: mfaEnabled,
            passkeys: passkeys,
            identities: []
        )
    }
}

extension AuditEvent {
    /// Also what `latchkey audit --json` prints.
    public var response: AuditEventResponse {
        AuditEventResponse(
            id: id.uuidString.lowercased(),
            at: at,
            type: type.rawValue,
            userId: userID?.uuidString.lowercased(),
            sessionId: sessionID?.uuidString.lowercased(),
            ip: ip,
            userAgent: userAgent,
            requestId: requestID,
            details: details
        )
    }
}

extension Session {
    func response(currentSessionID: UUID) -> SessionResponse {
        SessionResponse(
            id: id.uuidString.lowercased(),
            createdAt: createdAt,
            lastUsedAt: lastUsedAt,
            expiresAt: expiresAt,
            userAgent: userAgent,
            ip: ip,
            current: id == currentSessionID,
            amr: amr
        )
    }
}

extension IssuedTokens {
    var response: TokenPairResponse {
        TokenPairResponse(
            accessToken: accessToken,
            refreshToken: refreshToken,
            expiresIn: accessTokenTTL,
            refreshExpiresIn: refreshTokenTTL,
            user: user.response,
            amr: amr
        )
    }
}
