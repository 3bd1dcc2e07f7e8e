import Foundation
import LatchkeyCore
import Testing

// MARK: - OutboxStore

extension StoreConformanceTests {
    /// Past the limit the oldest due mails go first, so none starves; in which order they are answered is not promised.
    @Test(arguments: Backend.available)
    func claimDueMailsClaimsTheOldestDueMailsUpToTheLimit(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let oldest = try await store.queueMail(at: now.plus(-3))
            let newest = try await store.queueMail(at: now.plus(-1))
            let middle = try await store.queueMail(at: now.plus(-2))
            let notYetDue = try await store.queueMail(at: now.plus(5))

            let first = try await store.outbox.claimDueMails(now: now, leaseUntil: now.plus(60), limit: 2)
            #expect(first.sorted { $0.mail.createdAt < $1.mail.createdAt }.map(\.mail) == [oldest, middle])
            #expect(first.map(\.attempts) == [0, 0])
            #expect(try await store.outbox.claimDueMails(now: now, leaseUntil: now.plus(60), limit: 2).map(\.mail) == [newest])
            #expect(try await store.outbox.claimDueMails(now: now, leaseUntil: now.plus(60), limit: 2).isEmpty)
            #expect(try await store.outbox.claimDueMails(now: now.plus(5), leaseUntil: now.plus(60), limit: 2).map(\.mail) == [notYetDue])
        }
    }

    @Test(arguments: Backend.available)
    func claimedMailIsLeasedUntilTheLeaseEnds(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let mail = try await store.queueMail(at: now)
            #expect(try await store.outbox.claimDueMails(now: now, leaseUntil: now.plus(30), limit: 10).map(\.mail) == [mail])

            #expect(try await store.outbox.claimDueMails(now: now.plus(29.999), leaseUntil: now.plus(90), limit: 10).isEmpty)
            // An expired lease means the claimer died: the mail is due again, and claiming alone is no attempt.
            let reclaimed = try await store.outbox.claimDueMails(now: now.plus(30), leaseUntil: now.plus(90), limit: 10)
            #expect(reclaimed.map(\.mail) == [mail])
            #expect(reclaimed.map(\.attempts) == [0])
        }
    }

    @Test(arguments: Backend.available)
    func markRetryCountsTheAttemptAndDelaysTheNextClaim(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let mail = try await store.queueMail(at: now)
            _ = try await store.outbox.claimDueMails(now: now, leaseUntil: now.plus(60), limit: 10)

            try await store.outbox.markRetry(mail.id, nextAttemptAt: now.plus(10), error: "421 try again later")
            #expect(try await store.outbox.claimDueMails(now: now.plus(9), leaseUntil: now.plus(70), limit: 10).isEmpty)
            // Due at the new time although the old lease runs longer: the retry released it.
            let retried = try await store.outbox.claimDueMails(now: now.plus(10), leaseUntil: now.plus(70), limit: 10)
            #expect(retried.map(\.mail) == [mail])
            #expect(retried.map(\.attempts) == [1])
            #expect(try await store.outboxRow(mail.id)["last_error"] == "421 try again later")
        }
    }

    @Test(arguments: Backend.available)
    func markSentEndsDeliveryAndDropsTheBody(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let mail = try await store.queueMail(at: now)
            _ = try await store.outbox.claimDueMails(now: now, leaseUntil: now.plus(60), limit: 10)

            try await store.outbox.markSent(mail.id, now: now.plus(1))
            #expect(try await store.claimAll(at: now.plus(120)).isEmpty)
            let row = try await store.outboxRow(mail.id)
            #expect(row["sent_at"] != nil)
            #expect(row["attempts"] == "1")
            // The body holds a live link; once delivered it must not stay in the database.
            #expect(row["sealed_body"] == nil)
        }
    }

    @Test(arguments: Backend.available)
    func markFailedEndsDeliveryRecordsTheErrorAndDropsTheBody(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let mail = try await store.queueMail(at: now)
            _ = try await store.outbox.claimDueMails(now: now, leaseUntil: now.plus(60), limit: 10)

            try await store.outbox.markFailed(mail.id, now: now.plus(1), error: "550 no such mailbox")
            #expect(try await store.claimAll(at: now.plus(120)).isEmpty)
            let row = try await store.outboxRow(mail.id)
            #expect(row["failed_at"] != nil)
            #expect(row["last_error"] == "550 no such mailbox")
            #expect(row["attempts"] == "1")
            #expect(row["sealed_body"] == nil)
        }
    }

    @Test(arguments: Backend.available)
    func purgeDeletesOnlyFinishedMailsOlderThanTheCutoff(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let sentEarly = try await store.queueMail(at: now)
            let failedEarly = try await store.queueMail(at: now)
            let sentLate = try await store.queueMail(at: now)
            let retrying = try await store.queueMail(at: now)
            let pending = try await store.queueMail(at: now)
            _ = try await store.claimAll(at: now)
            try await store.outbox.markSent(sentEarly.id, now: now.plus(1))
            try await store.outbox.markFailed(failedEarly.id, now: now.plus(2), error: "550")
            try await store.outbox.markSent(sentLate.id, now: now.plus(10))
            try await store.outbox.markRetry(retrying.id, nextAttemptAt: now.plus(3), error: "421")

            // In batches of at most `limit`.
            #expect(try await store.outbox.purge(before: now.plus(5), limit: 1) == 1)
            #expect(try await store.outbox.purge(before: now.plus(5), limit: 10) == 1)
            #expect(try await store.outboxIDs() == Set([sentLate, retrying, pending].map(\.id)))
            #expect(try await store.outbox.purge(before: now.plus(5), limit: 10) == 0)
            // Mails still to be delivered are never purged, however old.
            #expect(try await store.outbox.purge(before: now.plus(86_400), limit: 10) == 1)
            #expect(try await store.outboxIDs() == Set([retrying, pending].map(\.id)))
        }
    }
}

extension TestStore {
    /// The ids of every row of the outbox.
    fileprivate func outboxIDs() async throws -> Set<UUID> {
        Set(try await rows("SELECT id FROM mail_outbox").compactMap { $0["id"].flatMap(UUID.init(uuidString:)) })
    }
}
