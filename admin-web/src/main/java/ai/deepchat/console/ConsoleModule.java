package ai.deepchat.console;

import ai.deepchat.console.audit.AuditRoutes;
import ai.deepchat.console.audit.ConsoleAudit;
import ai.deepchat.channel.wechat.ChannelAdmin;
import ai.deepchat.console.auth.Csrf;
import ai.deepchat.console.channels.ChannelRoutes;
import ai.deepchat.console.auth.LoginRoutes;
import ai.deepchat.console.auth.SessionTokens;
import ai.deepchat.console.auth.Sessions;
import ai.deepchat.console.conversations.ConversationRoutes;
import ai.deepchat.console.datasets.DatasetRoutes;
import ai.deepchat.datasets.DatasetStore;
import ai.deepchat.console.playground.PlaygroundRoutes;
import ai.deepchat.chat.api.TurnClient;
import ai.deepchat.console.faq.FaqRoutes;
import ai.deepchat.console.faq.IntentRuleRoutes;
import ai.deepchat.console.inbox.InboxApiRoutes;
import ai.deepchat.console.inbox.InboxPage;
import ai.deepchat.console.keys.ApiKeyRoutes;
import ai.deepchat.console.knowledge.BusKnowledgeBackend;
import ai.deepchat.console.knowledge.KnowledgeBackend;
import ai.deepchat.console.knowledge.EvaluationRoutes;
import ai.deepchat.console.knowledge.KnowledgeRoutes;
import ai.deepchat.console.markdown.MarkdownRenderer;
import ai.deepchat.console.models.ModelRoutes;
import ai.deepchat.console.overview.OverviewRoutes;
import ai.deepchat.console.settings.SettingsRoutes;
import ai.deepchat.console.tenants.TenantRoutes;
import ai.deepchat.console.users.UserRoutes;
import ai.deepchat.console.web.ConsoleRouter;
import ai.deepchat.console.web.I18n;
import ai.deepchat.console.web.SecurityHeaders;
import ai.deepchat.console.web.Views;
import ai.deepchat.console.widget.WidgetSettingsRoutes;
import ai.deepchat.console.words.WordsRoutes;
import ai.deepchat.export.ConversationExport;
import ai.deepchat.faq.FaqTransfer;
import ai.deepchat.handoff.HandoffNode;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.canary.ModelAdmin;
import ai.deepchat.platform.concurrent.CallerContext;
import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.http.HttpModule;
import ai.deepchat.platform.policy.AuditTrail;
import ai.deepchat.platform.security.JwtSecret;
import ai.deepchat.policy.ratelimit.FailureBackoff;
import ai.deepchat.policy.ratelimit.RateLimiters;
import ai.deepchat.policy.ratelimit.RequestLimits;
import ai.deepchat.gateway.ClientAddress;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.StaticHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;

/**
 * The admin console under {@code /console}: server-rendered pages (Thymeleaf), static assets, and the
 * guards every route shares (session, role, CSRF, security headers, error pages).
 *
 * <p>One per node, mounted on the router of every gateway instance. What must be node-wide lives here
 * and is immutable or thread-safe: the signing secret (sessions are signed cookies, re-checked against
 * PostgreSQL, so a session and its CSRF token work on any instance and any node), the message bundles,
 * and the super-admin's creation, done once, and the sign-in back-off (in-JVM, or Hazelcast when
 * clustered). Each
 * {@link #mount} builds that instance's own template engine, token verifier and routes.
 */
public final class ConsoleModule implements HttpModule {

  private static final Logger LOG = LoggerFactory.getLogger(ConsoleModule.class);

  private final Vertx vertx;
  private final Database database;
  private final PlatformConfig.Console config;
  private final String secret;
  private final KnowledgeBackend knowledge;
  private final String uploads;
  private final long uploadLimit;
  private final FaqTransfer faqFiles;
  private final ConversationExport conversationExport;
  private final ConsoleAudit audit;
  private final ModelAdmin models;
  private final I18n i18n = new I18n();
  private final MarkdownRenderer markdown;
  private final FailureBackoff signInBackoff;
  private final ClientAddress clients;
  private final RequestLimits limits;
  private final PlatformConfig.Chat chat;
  private final HandoffNode handoffs;
  private final DatasetStore datasets;
  private final ChannelAdmin channels;
  private Future<Void> superAdmin; // created by the first mount, awaited by every instance's sign-in

  /**
   * @param auditLog the platform's audit log (every console change is recorded through it)
   * @param models the node's model registry and rollouts (the Models page changes them through it)
   * @param ingest the node's ingestion service, or null when this node has none (uploads then say the
   *               service is unavailable; retrieval goes over the event bus either way)
   */
  public ConsoleModule(Vertx vertx, Platform platform, AuditTrail auditLog, ModelAdmin models,
                       KnowledgeBackend ingest) {
    this.vertx = vertx;
    this.models = models;
    this.audit = new ConsoleAudit(auditLog);
    this.database = platform.database();
    this.config = platform.config().console();
    this.chat = platform.config().chat();
    this.secret = JwtSecret.resolve(platform.config());
    this.knowledge = new BusKnowledgeBackend(vertx, ingest);
    this.uploads = platform.config().dataDir().resolve("tmp").resolve("console-uploads").toString();
    this.uploadLimit = platform.config().instances().ingestMaxFileMb() * 1024L * 1024;
    this.faqFiles = new FaqTransfer(vertx, platform.database(), auditLog);
    this.datasets = new DatasetStore(platform.database(), auditLog);
    this.conversationExport = new ConversationExport(platform.database(), auditLog);
    this.markdown = new MarkdownRenderer(vertx);
    this.handoffs = HandoffNode.of(vertx, platform);
    this.channels = new ChannelAdmin(vertx, platform, auditLog);
    this.signInBackoff = RateLimiters.backoffFor(vertx, Clock.systemUTC(), platform.config().policy().rateLimitMaxBuckets());
    this.clients = new ClientAddress(platform.config().policy().trustedProxies());
    // the console's own channel: its "t:" buckets are taken by nothing else (API keys and widget have theirs)
    this.limits = new RequestLimits(vertx, database, RateLimiters.forVertx(vertx, Clock.systemUTC(),
        platform.config().policy().rateLimitMaxBuckets()));
  }

  /** Called once per gateway instance, on its event loop. */
  @Override
  public void mount(Router router) {
    Csrf.CookiePolicy cookies = new Csrf.CookiePolicy(config.secureCookies());
    Csrf csrf = new Csrf(secret, cookies);
    Views views = new Views(vertx, i18n, csrf);
    SessionTokens tokens = new SessionTokens(vertx, secret);
    ConsoleRouter routes = new ConsoleRouter(router, views, tokens, new Sessions(database), csrf, uploads, limits);

    router.route(ConsoleRouter.BASE + "*").handler(new SecurityHeaders());
    // exactly /console (a route for "/console" would also match "/console/")
    router.get(ConsoleRouter.BASE).handler(ctx -> {
      if (ctx.request().path().equals(ConsoleRouter.BASE)) {
        ctx.redirect(ConsoleRouter.BASE + "/");
      } else {
        ctx.next();
      }
    });
    router.get(ConsoleRouter.BASE + "/static/*").handler(StaticHandler.create("console/static")
        .setCachingEnabled(true).setMaxAgeSeconds(3600).setDirectoryListing(false).setIncludeHidden(false));

    new LoginRoutes(vertx, database, views, tokens, cookies, CallerContext.bind(superAdmin()), audit, signInBackoff,
        clients).mount(routes);
    new OverviewRoutes(database, views).mount(routes);
    new KnowledgeRoutes(database, views, knowledge, audit, markdown, uploadLimit).mount(routes);
    new EvaluationRoutes(database, views, knowledge, audit).mount(routes);
    new FaqRoutes(database, views, audit, markdown, faqFiles).mount(routes);
    new IntentRuleRoutes(database, views, audit).mount(routes);
    new WordsRoutes(vertx, database, views, audit).mount(routes);
    new WidgetSettingsRoutes(database, views, audit).mount(routes);
    new SettingsRoutes(vertx, database, views, audit).mount(routes);
    new ApiKeyRoutes(database, views, audit).mount(routes);
    new UserRoutes(vertx, database, views, audit).mount(routes);
    new ConversationRoutes(database, views, markdown, conversationExport).mount(routes);
    new PlaygroundRoutes(views, new TurnClient(vertx, chat.requestTimeoutMs(), chat.idleTimeoutMs())).mount(routes);
    new AuditRoutes(database, views).mount(routes);
    new ModelRoutes(database, views, models).mount(routes);
    new TenantRoutes(vertx, database, views, audit).mount(routes);
    new InboxApiRoutes(handoffs).mount(routes);
    new InboxPage(views).mount(routes);
    new DatasetRoutes(datasets, views).mount(routes);
    new ChannelRoutes(views, channels).mount(routes);

    // Anything else under /console is a rendered 404; failures become rendered error pages.
    router.route(ConsoleRouter.BASE + "/*").handler(ctx -> views.error(ctx, 404, "error.404"));
    router.route(ConsoleRouter.BASE + "*").failureHandler(views::failure);
  }

  /** The platform super-admin of SUPERADMIN_EMAIL, created (when missing) once however many instances mount. */
  private synchronized Future<Void> superAdmin() {
    if (superAdmin == null) {
      superAdmin = config.superadminEmail().isPresent()
          ? TenantRoutes.ensureSuperAdmin(vertx, database, config.superadminEmail().get(),
              config.superadminPassword().orElseThrow())
              .onFailure(err -> LOG.error("could not create the platform super-admin", err))
          : Future.succeededFuture();
    }
    return superAdmin;
  }
}
