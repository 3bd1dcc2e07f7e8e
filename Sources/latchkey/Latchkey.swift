import ArgumentParser

/// The Latchkey command line: `serve` runs the server (the default), `migrate` applies database migrations, `cleanup`
/// deletes what has expired, `users` manages accounts, `keys` signing keys, `audit` shows the audit log, and
/// `bcrypt-time` measures a bcrypt cost.
@main
struct Latchkey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latchkey",
        abstract: "An authentication server: accounts, JWT access tokens, rotating refresh tokens.",
        subcommands: [
            ServeCommand.self, MigrateCommand.self, CleanupCommand.self, UsersCommand.self, KeysCommand.self, AuditCommand.self, BcryptCommand.self,
        ],
        defaultSubcommand: ServeCommand.self
    )
}
