/// The JWS algorithms Latchkey signs access tokens with. EdDSA (Ed25519) is the default.
public enum SigningAlgorithm: String, Sendable, CaseIterable {
    case eddsa = "EdDSA"
    case es256 = "ES256"
    case rs256 = "RS256"
    case hs256 = "HS256"
}
