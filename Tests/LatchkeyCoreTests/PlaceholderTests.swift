import LatchkeyCore
import Testing
