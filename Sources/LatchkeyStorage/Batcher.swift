import Synchronization

/// Sends work that arrives while one batch is on its way together in the next batch: under no load an item goes alone
/// at once; under load one round trip or one transaction serves dozens. An item is never answered by a batch sent
/// before it arrived, so it always sees what was committed before it, on any instance.
final class Batcher<Item: Sendable, Answer: Sendable>: Sendable {
    /// Carries out a batch: one answer per item, in order. A thrown error fails every item of the batch.
    typealias Send = @Sendable ([Item]) async throws -> [Result<Answer, any Error>]

    private struct Waiter {
        var item: Item
        var continuation: CheckedContinuation<Answer, any Error>
    }

    private struct State {
        var waiting: [Waiter] = []
        var sending = false
    }

    private let state = Mutex(State())
    /// Bounds one batch's size; the rest waits for the next.
    private let maxBatch: Int
    private let send: Send

    init(maxBatch: Int, send: @escaping Send) {
        self.maxBatch = maxBatch
        self.send = send
    }

    func submit(_ item: Item) async throws -> Answer {
        try await withCheckedThrowingContinuation { continuation in
            let startsSending = state.withLock { state in
                state.waiting.append(Waiter(item: item, continuation: continuation))
                defer { state.sending = true }
                return !state.sending
            }
            if startsSending { Task { await self.sendUntilNoneWaits() } }
        }
    }

    private func sendUntilNoneWaits() async {
        while let batch = nextBatch() {
            do {
                let answers = try await send(batch.map(\.item))
                for (waiter, answer) in zip(batch, answers) { waiter.continuation.resume(with: answer) }
            } catch {
                for waiter in batch { waiter.continuation.resume(throwing: error) }
            }
        }
    }

    /// The waiting items, or nil (and no longer sending) when there are none.
    private func nextBatch() -> [Waiter]? {
        state.withLock { state in
            guard !state.waiting.isEmpty else {
                state.sending = false
                return nil
            }
            let batch = Array(state.waiting.prefix(maxBatch))
            state.waiting.removeFirst(batch.count)
            return batch
        }
    }
}
