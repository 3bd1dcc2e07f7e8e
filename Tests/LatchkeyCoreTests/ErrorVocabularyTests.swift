import Foundation
import LatchkeyAPI
import Testing

/// LatchkeyAPI's error vocabulary, which the server and LatchkeyVerifier both answer with.
@Suite struct ErrorVocabularyTests {
    @Test func everyUnauthorizedAnswerChallengesAndIsNotCached() {
        for code in ErrorCode.allCases where code.status == 401 {
            let answer = ErrorAnswer(code)
            let challenge = answer.headers.first { $0.name == "WWW-Authenticate" }?.value
            #expect(challenge?.hasPrefix(#"Bearer realm="latchkey""#) == true, "\(code)")
            #expect(answer.headers.contains { $0 == ("Cache-Control", "no-store") }, "\(code)")
        }
        #expect(ErrorAnswer(.notFound).headers.map(\.name) == ["Content-Type"])
    }

    @Test(arguments: [
        (BearerChallenge(for: .tokenMissing, message: "x"), #"Bearer realm="latchkey""#),
        (
            BearerChallenge(for: .tokenExpired, message: "Access token has expired"),
            #"Bearer realm="latchkey", error="invalid_token", error_description="Access token has expired""#
        ),
        (
            BearerChallenge(for: .tokenInvalid, message: #"bad "quote" \ and é"#),
            #"Bearer realm="latchkey", error="invalid_token", error_description="bad quote  and ""#
        ),
        (BearerChallenge(for: .forbidden, message: "x"), #"Bearer realm="latchkey", error="insufficient_scope""#),
        (.insufficientUserAuthentication(), #"Bearer realm="latchkey", error="insufficient_user_authentication""#),
        (.insufficientUserAuthentication(maxAge: 600), #"Bearer realm="latchkey", error="insufficient_user_authentication", max_age=600"#),
    ])
    func challengesReadAsTheRFCsWriteThem(_ challenge: BearerChallenge?, _ header: String) {
        #expect(challenge?.headerValue == header)
    }

    @Test func answersCarryTheCodesStatusMessageAndOnlyTheirDetails() throws {
        let limited = ErrorAnswer(.rateLimited, message: "Too many attempts; try again in 7 s", retryAfter: 7)
        #expect(limited.status == 429)
        #expect(limited.headers.contains { $0 == ("Retry-After", "7") })
        let body = try JSONDecoder().decode(ErrorResponse.self, from: limited.body)
        #expect(body == ErrorResponse(error: .rateLimited, message: "Too many attempts; try again in 7 s"))

        let field = FieldError(field: "email", message: "is required")
        let notValidation = try JSONDecoder().decode(ErrorResponse.self, from: ErrorAnswer(.invalidJSON, details: [field]).body)
        #expect(notValidation == ErrorResponse(error: .invalidJSON, message: ErrorCode.invalidJSON.message))
        let validation = try JSONDecoder().decode(ErrorResponse.self, from: ErrorAnswer(.validationError, details: [field]).body)
        #expect(validation.details == [field])
        // JSON answers write `/` as it is.
        #expect(String(decoding: ErrorAnswer(.notFound, message: "a/b").body, as: UTF8.self).contains(#""a/b""#))
    }
}
