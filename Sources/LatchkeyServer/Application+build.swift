import Configuration
import Hummingbird
import LatchkeyCore
import LatchkeyStorage
import Logging
import NIOCore
import Prometheus

/// Builds the whole server from configuration: `serve` and the tests call this same function.
///
/// Reads every setting (`LatchkeyConfiguration`) and assembles the services over the configured database. Before the
/// server starts listening, on the database clients it serves with, pending migrations are applied and the signing
/// keys are loaded (or created).
public func buildApplication(
    reader: ConfigReader,
    metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
    logger: Logger = Logger(label: "latchkey")
) async throws -> some ApplicationProtocol {
    try await buildApplication(configuration: LatchkeyConfiguration(reader: reader), metrics: metrics, logger: logger)
}

/// `buildApplication(reader:)` for a configuration already read.
public func buildApplication(
    configuration: LatchkeyConfiguration,
    metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
    logger: Logger = Logger(label: "latchkey")
) async throws -> some ApplicationProtocol {
    let server = configuration.server
    if let warning = configuration.passkeys.warning { logger.warning("\(warning)") }
    let services = try await LatchkeyServices.open(configuration: configuration, logger: logger)
    let router = buildRouter(configuration: configuration, services: services, metrics: metrics)
    router.answerMethodNotAllowed()
    let mail = configuration.mail
    let transport: any MailTransport =
        switch mail.transport {
        case .log: LogMailTransport(logger: logger)
        case .smtp: SMTPTransport(configuration: mail)
        }
    let outbox = MailOutbox(store: services.database.outbox, transport: transport, configuration: mail, sealer: services.sealer, logger: logger)

    let (started, tokens) = (services.started, configuration.tokens)
    let requestHeaderTimeout = TimeAmount.seconds(Int64(server.requestHeaderTimeout))
    let idleTimeout = TimeAmount.seconds(Int64(server.idleTimeout))
    var app = Application(
        responder: MethodResponder(inner: router.buildResponder()),
        // A new handler for every connection (the argument is an autoclosure).
        server: .http1(
            configuration: .init(
                additionalChannelHandlers: [ConnectionTimeoutHandler(requestHeaderTimeout: requestHeaderTimeout, idleTimeout: idleTimeout)]
            )
        ),
        configuration: .init(address: .hostname(server.address.host, port: server.address.port), serverName: "latchkey"),
        // The database's own service (PostgreSQL's connection pool) first: the others, and the start below, use it.
        // Those that use the database wait for the start (`started`).
        services: (services.databaseService.map { [$0] } ?? []) + [
            MailOutboxService(outbox: outbox, pollInterval: .milliseconds(mail.pollInterval), started: started, logger: logger),
            PeriodicService(name: "mail outbox depth", interval: .seconds(5), started: started, logger: logger) {
                try await outbox.measurePending()
            },
            PeriodicService(name: "cleanup", interval: .seconds(server.cleanupInterval), started: started, logger: logger) {
                [cleanup = services.cleanup] in
                try await cleanup.run(logger: logger)
            },
            PeriodicService(name: "signing key reload", interval: .seconds(tokens.keyReloadInterval), started: started, logger: logger) {
                [issuer = services.issuer] in
                try await issuer.reload()
            },
        ],
        logger: logger
    )
    app.beforeServerStarts { try await services.start() }
    return app
}

/// The routes the server serves, behind its middleware; `buildApplication` adds the 405s for other methods on the same
/// paths (`answerMethodNotAllowed`).
func buildRouter(
    configuration: LatchkeyConfiguration,
    services: LatchkeyServices,
    metrics: PrometheusCollectorRegistry
) -> Router<AppRequestContext> {
    let (server, mail) = (configuration.server, configuration.mail)
    let (accountService, sessionService, limiter) = (services.accounts, services.sessions, services.limiter)
    // HEAD of every GET route answers as the GET without its body (RFC 9110 §9.3.2).
    let router = Router(context: AppRequestContext.self, options: .autoGenerateHeadEndpoints)
    // Outermost first. Metrics sit outside the error middleware, so they count the status the client got.
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: ClientAddressMiddleware(trustedProxies: configuration.trustedProxies))
    router.add(middleware: RequestLogMiddleware(maxBodySize: server.maxBodySize))
    router.add(middleware: SecurityHeadersMiddleware(strictTransportSecurity: server.sendsHSTS(appURL: mail.appURL)))
    router.add(middleware: CORSAllowListMiddleware(allowedOrigins: server.allowedOrigins(appURL: mail.appURL)))
    router.add(middleware: ErrorMiddleware())

    let origins = OriginPolicy(appOrigins: server.allowedOrigins(appURL: mail.appURL), formOrigins: server.formOrigins(appURL: mail.appURL))
    let cookie = RefreshCookie(enabled: server.refreshCookie, lifetime: configuration.tokens.refreshTokenTTL, origins: origins)
    let pages = EmailLinkPagesController(accounts: accountService, limiter: limiter, pages: configuration.pages, origins: origins)

    SystemController(database: services.database, issuer: services.issuer, metrics: metrics).addRoutes(to: router)
    AppAssociationController(configuration: configuration.passkeys).addRoutes(to: router)
    pages.addAssets(to: router)
    let auth = router.group("auth")
    let secondFactors = services.secondFactors
    auth.addRoutes(
        AuthController(
            accounts: accountService,
            sessions: sessionService,
            secondFactors: secondFactors,
            passkeys: services.passkeys,
            limiter: limiter,
            cookie: cookie
        )
        .endpoints
    )
    auth.addRoutes(EmailFlowController(accounts: accountService, limiter: limiter, pages: pages).endpoints)
    auth.addRoutes(pages.endpoints)
    auth.add(middleware: BearerAuthenticator(sessions: sessionService))
        .group(context: AuthenticatedContext.self)
        .addRoutes(AccountController(accounts: accountService, sessions: sessionService).endpoints)
        .addRoutes(SecondFactorController(secondFactors: secondFactors, passkeys: services.passkeys).endpoints)
        .addRoutes(PasskeyController(passkeys: services.passkeys).endpoints)
    router.group("admin").add(middleware: BearerAuthenticator(sessions: sessionService))
        .group(context: AdminContext.self)
        .add(middleware: SecondFactorRequirement(enabled: configuration.secondFactor.adminRequiresMFA))
        .addRoutes(AdminController(admin: services.admin, audit: services.audit, secondFactors: secondFactors).endpoints)
    return router
}

/// Applies pending migrations to the configured database (what `latchkey migrate` does).
public func migrateDatabase(configuration: LatchkeyConfiguration, logger: Logger) async throws {
    let opened = try DatabaseFactory.open(url: configuration.server.databaseURL, keyEncryptionKey: configuration.keyEncryptionKey, logger: logger)
    try await opened.whileRunning { try await opened.migrate() }
}
