import Configuration
import Hummingbird
import LatchkeyCore
import LatchkeyStorage
import Logging
import Prometheus

/// Builds the whole server from configuration: `serve` and the tests call this same function.
///
/// Reads `ServerConfiguration`, `TokenConfiguration`, `AccountConfiguration` and `MailConfiguration` (see their keys)
/// under `latchkey.`.
/// Opens the database and applies its migrations, and loads (or creates) the signing keys.
public func buildApplication(
    reader: ConfigReader,
    metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
    logger: Logger = Logger(label: "latchkey")
) async throws -> some ApplicationProtocol {
    let config = reader.latchkey
    let server = try ServerConfiguration(reader: config)
    let tokens = try TokenConfiguration(reader: config)
    let accounts = try AccountConfiguration(reader: config)
    let mail = try MailConfiguration(reader: config)

    let (opened, issuer) = try await DatabaseFactory.open(url: server.databaseURL, logger: logger) { database in
        try await TokenIssuer.load(configuration: tokens, store: database.signingKeys)
    }
    let database = opened.database
    let hasher = PasswordHasher(cost: accounts.bcryptCost)
    let sessionService = SessionService(database: database, issuer: issuer, hasher: hasher, accounts: accounts)
    let accountService = AccountService(
        database: database,
        sessions: sessionService,
        hasher: hasher,
        policy: PasswordPolicy(),
        configuration: accounts,
        composer: try await MailComposer(configuration: mail),
        tokens: tokens
    )
    let transport: any MailTransport =
        switch mail.transport {
        case .log: LogMailTransport(logger: logger)
        case .smtp: SMTPTransport(configuration: mail)
        }
    let outbox = MailOutbox(store: database.outbox, transport: transport, configuration: mail, logger: logger)

    let router = Router(context: AppRequestContext.self)
    router.add(middleware: RequestLogMiddleware(maxBodySize: server.maxBodySize))
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: CORSAllowListMiddleware(allowedOrigins: server.corsOrigins))
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: MetricsMiddleware())

    SystemController(database: database, issuer: issuer, metrics: metrics).addRoutes(to: router)
    let auth = router.group("auth")
    auth.addRoutes(AuthController(accounts: accountService, sessions: sessionService).endpoints)
    auth.addRoutes(EmailFlowController(accounts: accountService).endpoints)
    auth.add(middleware: BearerAuthenticator(sessions: sessionService))
        .group(context: AuthenticatedContext.self)
        .addRoutes(AccountController(accounts: accountService, sessions: sessionService).endpoints)
    router.answerMethodNotAllowed()

    return Application(
        router: router,
        configuration: .init(address: .hostname(server.host, port: server.port), serverName: "latchkey"),
        services: (opened.service.map { [$0] } ?? []) + [
            MailOutboxService(
                outbox: outbox,
                pollInterval: .milliseconds(mail.pollInterval),
                purgeInterval: .seconds(min(mail.retention, 3600)),
                logger: logger
            )
        ],
        logger: logger
    )
}

extension Router {
    /// Hummingbird answers a known path with an unknown method as 404; the contract wants 405 and `Allow`.
    func answerMethodNotAllowed() {
        let methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete, .options]
        let byPath = Dictionary(grouping: routes, by: { $0.path.description })
        for (_, routes) in byPath {
            let allowed = Set(routes.map(\.method))
            let allow = allowed.map(\.rawValue).sorted().joined(separator: ", ")
            for method in methods where !allowed.contains(method) {
                on(routes[0].path, method: method) { _, _ -> Response in throw MethodNotAllowed(allowed: allow) }
            }
        }
    }
}

/// Applies pending migrations to the database at `url` (what `latchkey migrate` does).
public func migrateDatabase(url: String, logger: Logger) async throws {
    _ = try await DatabaseFactory.open(url: url, logger: logger) { _ in }
}
