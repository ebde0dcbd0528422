package ai.deepchat.gateway;

import ai.deepchat.platform.Platform;
import ai.deepchat.platform.http.HttpModule;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.PrometheusScrapingHandler;

import java.util.List;

/**
 * The HTTP edge: one server and one router with request ids, health, metrics and every feature's
 * routes. Several instances share the port (Vert.x balances connections across event loops).
 */
public final class GatewayVerticle extends VerticleBase {

  private final Platform platform;
  private final List<HttpModule> modules;
  private HttpServer server;

  public GatewayVerticle(Platform platform, List<HttpModule> modules) {
    this.platform = platform;
    this.modules = modules;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    GatewayAdmission admission = GatewayAdmission.of(vertx, platform.config().operations());
    router.route().handler(new RequestIdHandler());
    router.route().handler(new InFlightHandler(admission));
    StreamingRoutes.guard(router, admission);
    router.get("/health/live").handler(ctx -> ctx.json(new io.vertx.core.json.JsonObject().put("status", "UP")));
    router.get("/health/ready").handler(HealthCheckHandler.createWithHealthChecks(readiness(admission)));
    router.get("/metrics").handler(PrometheusScrapingHandler.create());
    for (HttpModule module : modules) {
      module.mount(router);
    }
    router.route().last().handler(ctx -> HttpErrors.send(ctx, 404, "No such endpoint: "
        + ctx.request().method() + " " + ctx.request().path(), "invalid_request_error", "not_found"));
    router.route().failureHandler(HttpErrors::onFailure);

    HttpServerOptions options = new HttpServerOptions()
        .setHost(platform.config().http().host())
        .setPort(platform.config().http().port())
        .setCompressionSupported(true)
        // No permessage-deflate on WebSockets, though browsers offer it: it keeps a zlib deflater and
        // inflater per socket for the socket's life (about 100 KiB resident once the socket has carried a
        // message, against about 30 KiB for the rest of the socket; bench/load), to shrink frames that
        // are a few dozen bytes.
        .setPerMessageWebSocketCompressionSupported(false)
        .setPerFrameWebSocketCompressionSupported(false)
        .setMaxWebSocketFrameSize(1 << 20);
    return vertx.createHttpServer(options).requestHandler(router).listen().onSuccess(s -> server = s);
  }

  /**
   * Ready: not draining, on the majority side of the cluster, and the database answers (which also means migrations ran: the gateway
   * starts after them).
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
