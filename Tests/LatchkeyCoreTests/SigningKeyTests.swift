import Foundation
import LatchkeyCore
import Testing

@Suite struct SigningKeyTests {
    /// `latchkey keys retire KID` would take a kid starting with "-" for an option; random kids did one time in 64.
    @Test func kidsNeverStartWithADash() throws {
        for _ in 0..<1000 {
            let key = try SigningKey.generate(.eddsa, now: Date())
            #expect(!key.kid.hasPrefix("-"), "\(key.kid)")
        }
    }
}
