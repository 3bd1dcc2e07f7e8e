import Configuration
import Testing

@testable import LatchkeyCore

@Suite struct TrustedProxiesTests {
    func proxies(_ list: String) throws -> TrustedProxies {
        try TrustedProxies(
            reader: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: ["LATCHKEY_TRUSTED_PROXIES": list])).latchkey
        )
    }

    @Test(arguments: [
        // (trusted, peer, X-Forwarded-For, client)
        ("", "203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  // no trusted proxy: the header is ignored
        ("10.0.0.0/8", "203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  // from an untrusted peer too
        ("10.0.0.0/8", "10.1.2.3", ["198.51.100.1"], "198.51.100.1"),
        ("10.0.0.0/8", "10.1.2.3", ["6.6.6.6, 198.51.100.1, 10.9.9.9"], "198.51.100.1"),  // right-most untrusted
        ("10.0.0.0/8", "10.1.2.3", ["6.6.6.6", "198.51.100.1"], "198.51.100.1"),  // several header lines
        ("10.0.0.0/8", "10.1.2.3", ["10.4.4.4"], "10.4.4.4"),  // every hop trusted: the farthest
        ("10.0.0.0/8", "10.1.2.3", [], "10.1.2.3"),
        ("10.0.0.0/8", "10.1.2.3", ["6.6.6.6, nonsense"], "10.1.2.3"),  // garbage ends what can be believed
        ("127.0.0.1, ::1", "::1", ["2001:db8::7"], "2001:db8::7"),
        ("::ffff:10.0.0.0/104", "10.0.0.5", ["198.51.100.2"], "198.51.100.2"),  // an IPv4-mapped network
        ("10.0.0.0/8", "::ffff:10.0.0.5", ["198.51.100.3"], "198.51.100.3"),  // an IPv4-mapped peer
        ("192.168.1.0/24", "192.168.2.1", ["198.51.100.1"], "192.168.2.1"),
    ])
    func clientIP(trusted: String, peer: String, forwardedFor: [String], client: String) throws {
        #expect(try proxies(trusted).clientIP(peer: peer, forwardedFor: forwardedFor) == client)
    }

    @Test(arguments: ["10.0.0.0/33", "nonsense", "10.0.0.0/x", "::1/129", "10.0.0/8"])
    func badListsNameTheVariable(list: String) {
        let error = #expect(throws: ConfigurationError.self) { try proxies(list) }
        #expect(error?.description.hasPrefix("LATCHKEY_TRUSTED_PROXIES ") == true)
    }
}
