import Crypto
import CryptoExtras
import Foundation
import LatchkeyParsers
import LatchkeyTestSupport
import Testing

@testable import LatchkeyCore

/// COSE keys onto swift-crypto, and the layout of authenticator data and attestation objects.
@Suite struct PasskeyDataTests {
    static let data = Array("authenticator data and the hash of the client data".utf8)

    @Test(arguments: COSEAlgorithm.allCases)
    func aCOSEKeyVerifiesItsOwnSignaturesOnly(algorithm: COSEAlgorithm) throws {
        let passkey = try PasskeyKey(algorithm)
        let key = try COSEKey(cbor: try CBORReader.decode(CBOREncoder.encode(try passkey.cose)))
        #expect(key.algorithm == algorithm)
        let signature = try passkey.signature(for: Self.data)
        #expect(key.isValidSignature(signature, for: Self.data))
        #expect(!key.isValidSignature(signature, for: Self.data + [0]))
        #expect(!key.isValidSignature(Array(signature.dropLast()), for: Self.data))
        #expect(!key.isValidSignature(try PasskeyKey(algorithm).signature(for: Self.data), for: Self.data))
    }

    @Test func anES256SignatureMustBeDER() throws {
        let passkey = P256.Signing.PrivateKey()
        let point = Array(passkey.publicKey.rawRepresentation)
        let key = try COSEKey(cbor: Self.ec2(x: Array(point[..<32]), y: Array(point[32...])))
        #expect(!key.isValidSignature(Array(try passkey.signature(for: Self.data).rawRepresentation), for: Self.data))
        #expect(key.isValidSignature(Array(try passkey.signature(for: Self.data).derRepresentation), for: Self.data))
    }

    static func ec2(kty: Int64 = 2, alg: Int64 = -7, crv: Int64 = 1, x: [UInt8], y: [UInt8]) -> CBOR {
        .map([.integer(1): .integer(kty), .integer(3): .integer(alg), .integer(-1): .integer(crv), .integer(-2): .bytes(x), .integer(-3): .bytes(y)])
    }

    @Test func typeCurveAndAlgorithmMustAgree() throws {
        let point = Array(P256.Signing.PrivateKey().publicKey.rawRepresentation)
        let (x, y) = (Array(point[..<32]), Array(point[32...]))
        #expect(throws: Never.self) { try COSEKey(cbor: Self.ec2(x: x, y: y)) }
        for refused in [
            Self.ec2(kty: 1, x: x, y: y), Self.ec2(alg: -8, x: x, y: y), Self.ec2(alg: -35, x: x, y: y), Self.ec2(crv: 2, x: x, y: y),
            Self.ec2(x: Array(x.dropFirst()), y: y), Self.ec2(x: x, y: y + [0]), Self.ec2(x: x, y: Array(repeating: 7, count: 32)),
            .array([]), .map([:]),
        ] {
            #expect(throws: CBORError.self) { try COSEKey(cbor: refused) }
        }
        let edX = Array(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation)
        let okp = { (kty: Int64, crv: Int64, x: [UInt8]) -> CBOR in
            .map([.integer(1): .integer(kty), .integer(3): .integer(-8), .integer(-1): .integer(crv), .integer(-2): .bytes(x)])
        }
        #expect(throws: Never.self) { try COSEKey(cbor: okp(1, 6, edX)) }
        for refused in [okp(2, 6, edX), okp(1, 4, edX), okp(1, 6, edX + [0])] {
            #expect(throws: CBORError.self) { try COSEKey(cbor: refused) }
        }
    }

    @Test func anRSAKeyHasAtLeast2048Bits() throws {
        let small = try _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: 1024)).publicKey.getKeyPrimitives()
        let key = CBOR.map([
            .integer(1): .integer(3), .integer(3): .integer(-257), .integer(-1): .bytes(Array(small.modulus)),
            .integer(-2): .bytes(Array(small.publicExponent)),
        ])
        #expect(throws: CBORError.self) { try COSEKey(cbor: key) }
    }

    static let rpIDHash = Array(SHA256.hash(data: Array("example.com".utf8)))

    static func registration(
        flags: AuthenticatorData.Flags = [.userPresent, .userVerified, .attestedCredentialData],
        id: [UInt8] = Array(repeating: 9, count: 16),
        extensions: [UInt8] = []
    ) throws -> [UInt8] {
        let aaguid: [UInt8] = [0xAD, 0xCE] + Array(repeating: 0, count: 13) + [1]
        let key = CBOREncoder.encode(try PasskeyKey(.es256).cose)
        return authenticatorData(rpIDHash: rpIDHash, flags: flags, signCount: 7, credential: (aaguid, id, key), extensions: extensions)
    }

    @Test func registrationDataGivesTheCredential() throws {
        let passkey = try PasskeyKey(.edDSA)
        let key = CBOREncoder.encode(try passkey.cose)
        let aaguid: [UInt8] = [0xAD, 0xCE] + Array(repeating: 0, count: 13) + [1]
        let flags: AuthenticatorData.Flags = [.userPresent, .backupEligible, .backedUp, .attestedCredentialData]
        let data = try AuthenticatorData(
            authenticatorData(rpIDHash: Self.rpIDHash, flags: flags, signCount: 0x0102_0304, credential: (aaguid, [1, 2, 3], key))
        )
        #expect(data.rpIDHash == Self.rpIDHash)
        #expect(data.flags == flags)
        #expect(data.signCount == 0x0102_0304)
        #expect(data.credential?.id == [1, 2, 3])
        #expect(data.credential?.aaguid.uuidString.lowercased() == "adce0000-0000-0000-0000-000000000001")
        #expect(data.credential?.publicKeyCBOR == key)
        #expect(data.credential?.publicKey.algorithm == .edDSA)
    }

    @Test func assertionDataHasNoCredential() throws {
        let data = try AuthenticatorData(authenticatorData(rpIDHash: Self.rpIDHash, flags: [.userPresent], signCount: 0))
        #expect(data.credential == nil)
        #expect(data.flags == .userPresent)
    }

    @Test func extensionsAreACBORMapWhenFlagged() throws {
        let extensions = CBOREncoder.encode(.map([.text("credProtect"): .integer(2)]))
        let flagged: AuthenticatorData.Flags = [.userPresent, .attestedCredentialData, .extensionData]
        #expect(throws: Never.self) { try AuthenticatorData(try Self.registration(flags: flagged, extensions: extensions)) }
        #expect(throws: CBORError.self) { try AuthenticatorData(try Self.registration(extensions: extensions)) }
        #expect(throws: CBORError.self) { try AuthenticatorData(try Self.registration(flags: flagged)) }
        #expect(throws: CBORError.self) { try AuthenticatorData(try Self.registration(flags: flagged, extensions: [0x80])) }
    }

    @Test func malformedDataIsRefused() throws {
        #expect(throws: CBORError.self) { try AuthenticatorData(Array(repeating: 0, count: 36)) }
        #expect(throws: CBORError.self) {
            try AuthenticatorData(authenticatorData(rpIDHash: Self.rpIDHash, flags: [.userPresent], signCount: 0) + [0])
        }
        // Backed up but not backup-eligible.
        #expect(throws: CBORError.self) {
            try AuthenticatorData(authenticatorData(rpIDHash: Self.rpIDHash, flags: [.userPresent, .backedUp], signCount: 0))
        }
        #expect(throws: CBORError.self) { try AuthenticatorData(try Self.registration(id: [])) }
        #expect(throws: CBORError.self) { try AuthenticatorData(try Self.registration(id: Array(repeating: 1, count: 1024))) }
        #expect(throws: Never.self) { try AuthenticatorData(try Self.registration(id: Array(repeating: 1, count: 1023))) }
        // The credential flagged but cut short, and a credential without its flag.
        #expect(throws: CBORError.self) { try AuthenticatorData(Array(try Self.registration().dropLast())) }
        #expect(throws: CBORError.self) { try AuthenticatorData(try Self.registration(flags: [.userPresent])) }
    }

    @Test func anAttestationObjectGivesItsAuthenticatorData() throws {
        let authData = try Self.registration()
        let object = { (entries: [CBOR.MapKey: CBOR]) in CBOREncoder.encode(.map(entries)) }
        let good: [CBOR.MapKey: CBOR] = [.text("fmt"): .text("none"), .text("attStmt"): .map([:]), .text("authData"): .bytes(authData)]
        #expect(try AuthenticatorData(attestationObject: object(good)).credential?.id == Array(repeating: 9, count: 16))
        for missing in good.keys {
            var entries = good
            entries[missing] = nil
            #expect(throws: CBORError.self) { try AuthenticatorData(attestationObject: object(entries)) }
        }
        #expect(throws: CBORError.self) { try AuthenticatorData(attestationObject: object(good) + [0]) }
    }
}
