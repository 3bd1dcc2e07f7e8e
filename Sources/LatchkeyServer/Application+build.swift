import Configuration
import Hummingbird
import LatchkeyCore
import LatchkeyStorage
import Logging
import NIOCore
import Prometheus

/// Builds the whole server from configuration: `serve` and the tests call this same function.
///
/// Reads `ServerConfiguration`, `TrustedProxies`, `PageRenderer` and what `LatchkeyServices` reads (see their keys)
/// under `latchkey.`. Opens the database and applies its migrations, and loads (or creates) the signing keys.
public func buildApplication(
    reader: ConfigReader,
    metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
    logger: Logger = Logger(label: "latchkey")
) async throws -> some ApplicationProtocol {
    let config = reader.latchkey
    let server = try ServerConfiguration(reader: config)
    let services = try await LatchkeyServices.open(reader: config, databaseURL: server.databaseURL, logger: logger)
    let router = try await buildRouter(reader: config, server: server, services: services, metrics: metrics)
    router.answerMethodNotAllowed()
    let mail = services.mail
    let transport: any MailTransport =
        switch mail.transport {
        case .log: LogMailTransport(logger: logger)
        case .smtp: SMTPTransport(configuration: mail)
        }
    let outbox = MailOutbox(store: services.database.outbox, transport: transport, configuration: mail, sealer: services.sealer, logger: logger)

    let requestHeaderTimeout = TimeAmount.seconds(Int64(server.requestHeaderTimeout))
    let idleTimeout = TimeAmount.seconds(Int64(server.idleTimeout))
    return Application(
        responder: MethodResponder(inner: router.buildResponder()),
        // A new handler for every connection (the argument is an autoclosure).
        server: .http1(
            configuration: .init(
                additionalChannelHandlers: [ConnectionTimeoutHandler(requestHeaderTimeout: requestHeaderTimeout, idleTimeout: idleTimeout)]
            )
        ),
        configuration: .init(address: .hostname(server.address.host, port: server.address.port), serverName: "latchkey"),
        services: (services.databaseService.map { [$0] } ?? []) + [
            MailOutboxService(outbox: outbox, pollInterval: .milliseconds(mail.pollInterval), logger: logger),
            PeriodicService(name: "mail outbox depth", interval: .seconds(5), logger: logger) { try await outbox.measurePending() },
            PeriodicService(name: "cleanup", interval: .seconds(server.cleanupInterval), logger: logger) { [cleanup = services.cleanup] in
                try await cleanup.run(logger: logger)
            },
            PeriodicService(name: "signing key reload", interval: .seconds(services.tokens.keyReloadInterval), logger: logger) {
                [issuer = services.issuer] in
                try await issuer.reload()
            },
        ],
        logger: logger
    )
}

/// The routes the server serves, behind its middleware; `buildApplication` adds the 405s for other methods on the same
/// paths (`answerMethodNotAllowed`). Reads `TrustedProxies` and `PageRenderer`.
func buildRouter(
    reader config: ConfigReader,
    server: ServerConfiguration,
    services: LatchkeyServices,
    metrics: PrometheusCollectorRegistry
) async throws -> Router<AppRequestContext> {
    let (accountService, sessionService, limiter, mail) = (services.accounts, services.sessions, services.limiter, services.mail)
    // HEAD of every GET route answers as the GET without its body (RFC 9110 §9.3.2).
    let router = Router(context: AppRequestContext.self, options: .autoGenerateHeadEndpoints)
    // Outermost first. Metrics sit outside the error middleware, so they count the status the client got.
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: ClientAddressMiddleware(trustedProxies: try TrustedProxies(reader: config)))
    router.add(middleware: RequestLogMiddleware(maxBodySize: server.maxBodySize))
    router.add(middleware: SecurityHeadersMiddleware(strictTransportSecurity: server.sendsHSTS(appURL: mail.appURL)))
    router.add(middleware: CORSAllowListMiddleware(allowedOrigins: server.allowedOrigins(appURL: mail.appURL)))
    router.add(middleware: ErrorMiddleware())

    let origins = OriginPolicy(appOrigins: server.allowedOrigins(appURL: mail.appURL), formOrigins: server.formOrigins(appURL: mail.appURL))
    let cookie = RefreshCookie(enabled: server.refreshCookie, lifetime: services.tokens.refreshTokenTTL, origins: origins)
    let pages = EmailLinkPagesController(accounts: accountService, limiter: limiter, pages: try await PageRenderer(reader: config), origins: origins)

    SystemController(database: services.database, issuer: services.issuer, metrics: metrics).addRoutes(to: router)
    pages.addAssets(to: router)
    let auth = router.group("auth")
    auth.addRoutes(AuthController(accounts: accountService, sessions: sessionService, limiter: limiter, cookie: cookie).endpoints)
    auth.addRoutes(EmailFlowController(accounts: accountService, limiter: limiter, pages: pages).endpoints)
    auth.addRoutes(pages.endpoints)
    auth.add(middleware: BearerAuthenticator(sessions: sessionService))
        .group(context: AuthenticatedContext.self)
        .addRoutes(AccountController(accounts: accountService, sessions: sessionService).endpoints)
    router.group("admin").add(middleware: BearerAuthenticator(sessions: sessionService))
        .group(context: AdminContext.self)
        .addRoutes(AdminController(admin: services.admin, audit: services.audit).endpoints)
    return router
}

/// Reads every setting without opening anything: throws the first `ConfigurationError`.
public func validateConfiguration(reader: ConfigReader) async throws {
    let config = reader.latchkey
    _ = try ServerConfiguration(reader: config)
    _ = try TokenConfiguration(reader: config)
    _ = try AccountConfiguration(reader: config)
    _ = try MailConfiguration(reader: config)
    _ = try RateLimitConfiguration(reader: config)
    _ = try TrustedProxies(reader: config)
    _ = try KeyEncryptionKey.configured(reader: config)
    _ = try AuditLog.retention(reader: config)
    _ = try await PageRenderer(reader: config)
}

/// Applies pending migrations to the configured database (what `latchkey migrate` does).
public func migrateDatabase(reader: ConfigReader, logger: Logger) async throws {
    let config = reader.latchkey
    let server = try ServerConfiguration(reader: config)
    let configuredKEK = try KeyEncryptionKey.configured(reader: config)
    _ = try await DatabaseFactory.open(url: server.databaseURL, keyEncryptionKey: configuredKEK, logger: logger) { _, _ in }
}
