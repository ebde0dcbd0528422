package ai.deepchat.gateway;

import ai.deepchat.platform.Platform;
import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.http.HttpModule;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The HTTP edge: one server and one router with request ids, health, the edge's limits (body deadline,
 * idle timeout, connections per client address) and every feature's routes; metrics are on the
 * management port ({@link ManagementVerticle}). A node runs GATEWAY_INSTANCES of them ({@link #deploy}) sharing the port: Vert.x hands each
 * new connection to the next instance, so connections, WebSockets and streamed tokens spread over
 * that many event loops. What must be node-wide (the stream limit, the drain) is {@link GatewayAdmission}.
 */
public final class GatewayVerticle extends VerticleBase {

  /** The gateways of a node: their deployment and the port they share. */
  public record Deployed(String deploymentId, int port) {
  }

  private final Platform platform;
  private final Supplier<List<HttpModule>> modules;
  private final int port;
  private HttpServer server;

  /** One gateway with these modules, on HTTP_PORT. */
  public GatewayVerticle(Platform platform, List<HttpModule> modules) {
    this(platform, () -> modules, platform.config().http().port());
  }

  private GatewayVerticle(Platform platform, Supplier<List<HttpModule>> modules, int port) {
    this.platform = platform;
    this.modules = modules;
    this.port = port;
  }

  /**
   * Deploys GATEWAY_INSTANCES gateways on HTTP_PORT. Each instance asks {@code modules} for its modules
   * in its own start, on its own event loop: the supplier makes a new module where it holds machinery
   * bound to an event loop, and hands every instance the same one where it is node-wide and thread-safe.
   */
  public static Future<Deployed> deploy(Vertx vertx, Platform platform, Supplier<List<HttpModule>> modules) {
    int configured = platform.config().http().port();
    // port 0 would give each instance a random port of its own; a negative port is one random port shared
    int port = configured == 0 ? -1 : configured;
    List<GatewayVerticle> instances = new CopyOnWriteArrayList<>();
    return vertx.deployVerticle(() -> {
          GatewayVerticle gateway = new GatewayVerticle(platform, modules, port);
          instances.add(gateway);
          return gateway;
        }, new DeploymentOptions().setInstances(platform.config().instances().gateway()))
        .map(id -> new Deployed(id, instances.get(0).actualPort()));
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    GatewayAdmission admission = GatewayAdmission.of(vertx, platform.config().operations());
    PlatformConfig.Edge edge = platform.config().edge();
    router.route().handler(new RequestIdHandler());
    router.route().handler(new NulInUriHandler());
    router.route().handler(new BodyDeadlineHandler(edge.bodyTimeoutSeconds()));
    router.route().handler(new InFlightHandler(admission));
    StreamingRoutes.guard(router, admission);
    router.get("/health/live").handler(ctx -> ctx.json(new io.vertx.core.json.JsonObject().put("status", "UP")));
    router.get("/health/ready").handler(HealthCheckHandler.createWithHealthChecks(readiness(admission)));
    // no /metrics here: it names tenants' versions and load; ManagementVerticle serves it on MANAGEMENT_PORT
    for (HttpModule module : modules.get()) {
      module.mount(router);
    }
    router.route().last().handler(ctx -> MethodNotAllowed.handle(router, ctx));
    router.route().failureHandler(HttpErrors::onFailure);

    HttpServerOptions options = new HttpServerOptions()
        .setHost(platform.config().http().host())
        .setPort(port)
        .setCompressionSupported(true)
        // No permessage-deflate on WebSockets, though browsers offer it: it keeps a zlib deflater and
        // inflater per socket for the socket's life (about 100 KiB resident once the socket has carried a
        // message, against about 30 KiB for the rest of the socket; bench/load), to shrink frames that
        // are a few dozen bytes.
        .setPerMessageWebSocketCompressionSupported(false)
        .setPerFrameWebSocketCompressionSupported(false)
        .setMaxWebSocketFrameSize(1 << 20)
        // a connection silent this long (no request, no byte of an answer) is closed
        .setIdleTimeout(edge.idleTimeoutSeconds())
        .setIdleTimeoutUnit(TimeUnit.SECONDS);
    HttpServer created = vertx.createHttpServer(options);
    ConnectionLimit limit = new ConnectionLimit(vertx, ClientConnections.of(vertx, edge.maxConnectionsPerAddress()),
        platform.config().operations().retryAfterSeconds());
    return created.requestHandler(limit.install(created, router)).listen().onSuccess(s -> server = s);
  }

  /**
   * Ready: not draining, on the majority side of the cluster, a stream slot free, and the database
   * answers (which also means migrations ran: the gateway starts after them).
   */
  private HealthChecks readiness(GatewayAdmission admission) {
    HealthChecks checks = HealthChecks.create(vertx);
    // A draining node reports DOWN first, so load balancers stop sending before it stops answering.
    checks.register("accepting", promise -> promise.complete(admission.draining()
        ? Status.KO(new io.vertx.core.json.JsonObject().put("reason", "shutting down")) : Status.OK()));
    // Cut off from most of the cluster: not ready, so load balancers send chats to the majority side.
    checks.register("cluster-majority", promise -> promise.complete(admission.hasMajority() ? Status.OK()
        : Status.KO(new io.vertx.core.json.JsonObject().put("members", admission.quorum().members())
            .put("quorum", admission.quorum().quorum()))));
    // Every stream slot taken: not ready, so a load balancer sends new chats to nodes with room while
    // this one finishes its streams. It turns UP again as soon as one ends; liveness stays UP.
    checks.register("capacity", promise -> promise.complete(admission.saturated()
        ? Status.KO(new io.vertx.core.json.JsonObject().put("reason", "saturated")
            .put("streams", admission.activeStreams()).put("max", admission.maxStreams()))
        : Status.OK()));
    checks.register("database", 2000, promise -> platform.database().ping()
        .onSuccess(ok -> promise.complete(Status.OK()))
        .onFailure(err -> promise.complete(Status.KO(new io.vertx.core.json.JsonObject()
            .put("error", String.valueOf(err.getMessage()))))));
    return checks;
  }

  /** The port actually bound (useful when configured as 0). */
  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }
}
