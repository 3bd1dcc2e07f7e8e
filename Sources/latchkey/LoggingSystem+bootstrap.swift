import Foundation
import LatchkeyServer
import Logging

extension LoggingSystem {
    /// Text lines on stderr, or one JSON object per line for log collectors.
    static func bootstrap(level: Logger.Level, format: ServerConfiguration.LogFormat) {
        bootstrap { label in
            var handler: any LogHandler =
                switch format {
                case .text: StreamLogHandler.standardError(label: label)
                case .json: JSONLogHandler(label: label)
                }
            handler.logLevel = level
            return handler
        }
    }
}
