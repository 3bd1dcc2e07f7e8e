import GRDB

extension Batcher {
    /// Group commit on SQLite's one writer: the items that arrive while one transaction is being written go together
    /// in the next. Pages that every item writes (the ends of the session, token and audit indexes) are then written
    /// once per batch, not once per item, and the writer's queue is entered once. Each item runs in a savepoint of its
    /// own, so one that throws leaves nothing behind and fails alone; every item is answered only once the whole batch
    /// is committed.
    static func groupCommit(
        writer: any DatabaseWriter,
        _ body: @escaping @Sendable (GRDB.Database, Item) throws -> Answer
    ) -> Batcher<Item, Answer> {
        Batcher(maxBatch: 64) { batch in
            try await writer.write { db in
                batch.map { item in Result { try db.inSavepoint { try body(db, item) } } }
            }
        }
    }
}

extension GRDB.Database {
    /// Runs `body` in a savepoint: when it throws, what it wrote is rolled back and the error passed on.
    fileprivate func inSavepoint<T>(_ body: () throws -> T) throws -> T {
        var answer: Result<T, any Error> = .failure(CancellationError())
        try inSavepoint {
            answer = Result(catching: body)
            if case .success = answer { return .commit }
            return .rollback
        }
        return try answer.get()
    }
}
