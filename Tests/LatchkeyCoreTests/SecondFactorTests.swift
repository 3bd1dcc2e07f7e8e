import ExtrasBase64
import Foundation
import Testing

@testable import LatchkeyCore

/// The TOTP factor's codes and rules, and recovery codes.
@Suite struct SecondFactorTests {
    /// RFC 6238 Appendix B, SHA-1, the last six digits of each eight-digit value.
    @Test(arguments: [
        (59, "287082"), (1_111_111_109, "081804"), (1_111_111_111, "050471"), (1_234_567_890, "005924"),
        (2_000_000_000, "279037"), (20_000_000_000, "353130"),
    ])
    func rfc6238TestVectors(seconds: Int64, code: String) {
        let secret = Array("12345678901234567890".utf8)
        #expect(TOTPFactor.code(secret: secret, step: TOTPFactor.step(at: Date(timeIntervalSince1970: Double(seconds)))) == code)
    }

    /// The current step and one either side, each at most once, and never a step before the last one used.
    @Test func theWindowAndTheReplayRule() {
        let secret = TOTPFactor.newSecret()
        let now = Date(timeIntervalSince1970: 1_800_000_015)
        let step = TOTPFactor.step(at: now)
        let code = { (offset: Int64) in TOTPFactor.code(secret: secret, step: step + offset) }
        #expect(TOTPFactor.matchingStep(code(0), secret: secret, now: now, after: nil) == step)
        #expect(TOTPFactor.matchingStep(code(-1), secret: secret, now: now, after: nil) == step - 1)
        #expect(TOTPFactor.matchingStep(code(1), secret: secret, now: now, after: nil) == step + 1)
        #expect(TOTPFactor.matchingStep(code(2), secret: secret, now: now, after: nil) == nil)
        #expect(TOTPFactor.matchingStep(code(-2), secret: secret, now: now, after: nil) == nil)
        // Used: that step and every earlier one are gone.
        #expect(TOTPFactor.matchingStep(code(0), secret: secret, now: now, after: step) == nil)
        #expect(TOTPFactor.matchingStep(code(-1), secret: secret, now: now, after: step) == nil)
        #expect(TOTPFactor.matchingStep(code(1), secret: secret, now: now, after: step) == step + 1)
        // Forgiving about spaces, strict about the rest.
        let spaced = String(code(0).prefix(3)) + " " + String(code(0).suffix(3))
        #expect(TOTPFactor.matchingStep(spaced, secret: secret, now: now, after: nil) == step)
        for bad in ["", "12345", "1234567", "12345a", "١٢٣٤٥٦"] {
            #expect(TOTPFactor.matchingStep(bad, secret: secret, now: now, after: nil) == nil, "\(bad)")
        }
    }

    @Test func secretsAndTheirURI() throws {
        let secret = TOTPFactor.newSecret()
        #expect(secret.count == 20 && secret.allSatisfy { $0 < 0x80 })
        #expect(TOTPFactor.newSecret() != secret)
        let base32 = TOTPFactor.base32(secret)
        #expect(base32.count == 32 && !base32.contains("="))
        #expect(try base32.base32decoded() == secret)
        #expect(
            TOTPFactor.uri(secret: secret, issuer: "Acme Auth+", account: "ada lovelace@example.com")
                == "otpauth://totp/Acme%20Auth%2B:ada%20lovelace@example.com?secret=\(base32)&issuer=Acme%20Auth%2B&algorithm=SHA1&digits=6&period=30"
        )
    }

    @Test func recoveryCodes() throws {
        let codes = RecoveryCodes(keyEncryptionKey: .ephemeral())
        let (shown, hashes) = codes.generate()
        #expect(shown.count == 10 && Set(shown).count == 10 && Set(hashes).count == 10)
        for code in shown { #expect(code.wholeMatch(of: /[a-z0-9]{5}-[a-z0-9]{5}-[a-z0-9]{5}/) != nil, "\(code)") }
        // In any case, with or without hyphens and spaces.
        let code = shown[0]
        for typed in [
            code, code.uppercased(), code.replacingOccurrences(of: "-", with: ""), " " + code.replacingOccurrences(of: "-", with: " ") + " ",
        ] {
            #expect(codes.hash(typed) == hashes[0], "\(typed)")
        }
        #expect(codes.hash(String(code.dropLast())) == nil)
        #expect(codes.hash(code + "a") == nil)
        // Keyed by the KEK: the same code under another KEK hashes apart, and no hash is the code itself.
        #expect(RecoveryCodes(keyEncryptionKey: .ephemeral()).hash(code) != hashes[0])
        #expect(!hashes[0].contains(code.replacingOccurrences(of: "-", with: "")))
    }
}
