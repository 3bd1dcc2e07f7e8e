import Configuration

#if canImport(Glibc)
import Glibc
#endif

/// The proxies whose `X-Forwarded-For` is believed, and the client address that follows from it: the TCP peer,
/// unless the peer is a trusted proxy; then the right-most address of `X-Forwarded-For` that is not itself a
/// trusted proxy. A header from any other peer never moves a request to another address (or rate-limit bucket).
///
/// Keys (under `latchkey.`): `trustedProxies` (comma-separated CIDRs or addresses; none by default).
public struct TrustedProxies: Sendable {
    private let networks: [IPNetwork]

    public init(reader: ConfigReader) throws {
        let entries = (reader.text("trustedProxies") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        networks = try entries.filter { !$0.isEmpty }.map { entry in
            guard let network = IPNetwork(entry) else {
                throw ConfigurationError(key: "trustedProxies", "must be comma-separated CIDRs such as 10.0.0.0/8 or ::1/128, not '\(entry)'")
            }
            return network
        }
    }

    /// The client address of a request from `peer` that carried these `X-Forwarded-For` values (in header order).
    public func clientIP(peer: String?, forwardedFor: [String]) -> String? {
        guard let peer, isTrusted(peer) else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        var client = peer
        for hop in hops.reversed() {
            // A hop that is not an address ends what can be believed: the client is the proxy that added it.
            guard IPAddress(hop) != nil else { return client }
            client = hop
            if !isTrusted(hop) { return hop }
        }
        return client
    }

    private func isTrusted(_ address: String) -> Bool {
        guard let address = IPAddress(address) else { return false }
        return networks.contains { $0.contains(address) }
    }
}

/// An IPv4 or IPv6 address as bytes; an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is its IPv4 address.
struct IPAddress: Equatable {
    let bytes: [UInt8]

    init?(_ text: String) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            let all = withUnsafeBytes(of: &v6) { Array($0) }
            bytes = all.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] ? Array(all.suffix(4)) : all
        } else {
            return nil
        }
    }
}

/// `10.0.0.0/8`, `fd00::/8`, or one address.
struct IPNetwork {
    let base: IPAddress
    let prefixLength: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let base = IPAddress(String(parts[0])) else { return nil }
        // A mapped IPv6 base (::ffff:a.b.c.d/104) became IPv4: its prefix loses the 96 bits of the mapping.
        let mapped = parts[0].contains(":") && base.bytes.count == 4
        guard let length = parts.count == 2 ? Int(parts[1]) : base.bytes.count * 8 + (mapped ? 96 : 0) else { return nil }
        let prefixLength = mapped ? length - 96 : length
        guard (0...(base.bytes.count * 8)).contains(prefixLength) else { return nil }
        self.base = base
        self.prefixLength = prefixLength
    }

    func contains(_ address: IPAddress) -> Bool {
        guard address.bytes.count == base.bytes.count else { return false }
        var remaining = prefixLength
        for (a, b) in zip(address.bytes, base.bytes) where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if a & mask != b & mask { return false }
            remaining -= bits
        }
        return true
    }
}
