import LatchkeyCore
import LatchkeyStorage
import Testing

/// The store-conformance suite: every method of every store protocol, on every backend.
@Suite struct StoreConformanceTests {}
