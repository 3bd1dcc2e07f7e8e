import ArgumentParser

/// The Latchkey command line: `serve` runs the server, `migrate` applies database migrations, `users` manages accounts, `keys` signing keys, `audit` shows the audit log.
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
