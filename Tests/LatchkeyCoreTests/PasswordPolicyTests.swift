import Testing

@testable import LatchkeyCore

@Suite struct PasswordPolicyTests {
    func problems(_ password: String) -> [String] {
        PasswordPolicy().problems(with: password, field: "password").map(\.message)
    }

    @Test func acceptsAGoodPassword() {
        #expect(problems("Tr1cky!pass").isEmpty)
        #expect(problems("ünïcødé-Pässw0rd").isEmpty)
    }

    @Test func refusesWeakOnes() {
        #expect(problems("Ab1!").contains("must be at least 8 characters"))
        #expect(problems("abcdefgh1").contains("must contain a symbol"))
        #expect(problems("abcdefgh!").contains("must contain a digit"))
        #expect(problems("12345678!").contains("must contain a letter"))
        #expect(problems("P@ssw0rd").contains("is too common"))
        #expect(problems("p@SSW0RD").contains("is too common"), "compared case-insensitively")
    }

    /// bcrypt would silently truncate these; they are refused, never truncated.
    @Test func refusesWhatBcryptWouldTruncate() {
        let seventyTwo = "A1!" + String(repeating: "a", count: 69)
        #expect(problems(seventyTwo).isEmpty)
        #expect(problems(seventyTwo + "b").contains("must be at most 72 bytes in UTF-8"))
        #expect(problems("A1!" + String(repeating: "é", count: 35)).contains("must be at most 72 bytes in UTF-8"))
        #expect(problems("Abc1!def\u{0}ghi").contains("must not contain NUL or control characters"))
        #expect(problems("Abc1!def\nghi").contains("must not contain NUL or control characters"))
    }

    /// The policy measures what is hashed: the NFC form. 36 decomposed "é" are 108 bytes as typed, 72 in NFC.
    @Test func measuresTheNormalisedForm() {
        let decomposed = "A1!" + String(repeating: "e\u{0301}", count: 34) + "a"
        #expect(decomposed.utf8.count > 72)
        #expect(problems(decomposed).isEmpty)
    }
}

@Suite struct NameRuleTests {
    @Test(arguments: ["a\u{2028}b", "a\u{2029}b", "a\u{200B}b", "a\u{200E}b", "a\u{202E}b", "a\u{FEFF}b", "a\u{0000}b", "a\u{007F}b", "a\u{0085}b"])
    func refusesControlFormatAndSeparatorCharacters(name: String) {
        #expect(AccountService.nameProblems(name).map(\.field) == ["name"])
    }

    @Test(arguments: ["Ada", "Zoë O'Neil", "李小龍", "🚀 crew", "Jean-Luc Picard", "Ελένη"])
    func acceptsNames(name: String) {
        #expect(AccountService.nameProblems(name).isEmpty)
    }
}
