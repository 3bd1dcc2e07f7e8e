import Foundation
import GRDB
import LatchkeyCore
import Synchronization

/// Remembers the answer of `activeUser` per session, so authenticated requests skip the database while
/// nothing about the session or its user changed.
///
/// Exact for writes made by this process — every HTTP flow: a transaction observer on the one writer
/// connection drops the entry of every `sessions` or `users` row a commit updated or deleted, before the
/// write returns (so before a logout is answered). A write made by another process on the same file
/// (an operator's SQL shell) is seen once the entry is older than `maxAge`. PostgreSQL has no such cache:
/// other instances write there too.
final class SQLiteSessionCache: TransactionObserver, Sendable {
    struct Entry {
        var user: User
        var sessionExpiresAt: Date
        var sessionRowID: Int64
        var userRowID: Int64
        var cachedAt: Date
    }

    private struct State {
        /// Counts the commits that changed sessions or users: an answer read before one of them is not stored.
        var generation: UInt64 = 0
        var entries: [UUID: Entry] = [:]
        var sessionsByRow: [Int64: UUID] = [:]
        var sessionsByUserRow: [Int64: Set<UUID>] = [:]

        mutating func insert(_ entry: Entry, for sessionID: UUID) {
            entries[sessionID] = entry
            sessionsByRow[entry.sessionRowID] = sessionID
            sessionsByUserRow[entry.userRowID, default: []].insert(sessionID)
        }

        mutating func remove(sessionID: UUID) {
            guard let entry = entries.removeValue(forKey: sessionID) else { return }
            sessionsByRow[entry.sessionRowID] = nil
            sessionsByUserRow[entry.userRowID]?.remove(sessionID)
            if sessionsByUserRow[entry.userRowID]?.isEmpty == true { sessionsByUserRow[entry.userRowID] = nil }
        }
    }

    private let state = Mutex(State())
    /// Rows changed by the transaction in progress on the writer connection (SQLite has one writer).
    private let changedRows = Mutex<(sessions: Set<Int64>, users: Set<Int64>)>(([], []))
    private let capacity: Int
    private let maxAge: TimeInterval

    init(capacity: Int = 10_000, maxAge: TimeInterval = 1) {
        self.capacity = capacity
        self.maxAge = maxAge
    }

    var generation: UInt64 { state.withLock { $0.generation } }

    /// The cached user of a live session, nil when unknown, stale or expired (the caller then asks the database).
    func user(sessionID: UUID, userID: UUID, now: Date) -> User? {
        guard let entry = state.withLock({ $0.entries[sessionID] }),
            entry.user.id == userID,
            entry.sessionExpiresAt > now,
            now.timeIntervalSince(entry.cachedAt) < maxAge
        else { return nil }
        return entry.user
    }

    /// Stores `entry` unless a commit changed sessions or users since `generation` was read (it may be stale).
    func remember(_ entry: Entry, for sessionID: UUID, readAt generation: UInt64) {
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.entries.count >= capacity { state = State(generation: generation) }
            state.insert(entry, for: sessionID)
        }
    }

    // MARK: TransactionObserver (called on the writer connection)

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        switch eventKind {
        case .insert: false  // a new row cannot change what a cached session answers
        case .update(let table, _), .delete(let table): table == "sessions" || table == "users"
        }
    }

    func databaseDidChange(with event: DatabaseEvent) {
        _ = changedRows.withLock { rows in
            if event.tableName == "sessions" { rows.sessions.insert(event.rowID) } else { rows.users.insert(event.rowID) }
        }
    }

    func databaseDidCommit(_ db: GRDB.Database) {
        let rows = changedRows.withLock { rows in
            defer { rows = ([], []) }
            return rows
        }
        guard !rows.sessions.isEmpty || !rows.users.isEmpty else { return }
        state.withLock { state in
            state.generation &+= 1
            for row in rows.sessions {
                if let sessionID = state.sessionsByRow[row] { state.remove(sessionID: sessionID) }
            }
            for row in rows.users {
                for sessionID in state.sessionsByUserRow.removeValue(forKey: row) ?? [] { state.remove(sessionID: sessionID) }
            }
        }
    }

    func databaseDidRollback(_ db: GRDB.Database) {
        changedRows.withLock { $0 = ([], []) }
    }
}
