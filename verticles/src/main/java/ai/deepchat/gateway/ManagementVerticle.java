package ai.deepchat.gateway;

import ai.deepchat.platform.Platform;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;

/**
 * Health and metrics. Nodes without the gateway role (pipeline, RAG, GPU workers) serve it on
 * HTTP_HOST/HTTP_PORT, so Kubernetes can probe them and Prometheus can scrape their worker and GPU
 * gauges; gateway nodes serve it on MANAGEMENT_HOST/MANAGEMENT_PORT, apart from the public port,
 * because metrics describe tenants' model versions and the node's load. It serves nothing else.
 */
public final class ManagementVerticle extends VerticleBase {

  private final Platform platform;
  private final String host;
  private final int port;
  private HttpServer server;

  /** On HTTP_HOST/HTTP_PORT: for nodes without the gateway role. */
  public ManagementVerticle(Platform platform) {
    this(platform, platform.config().http().host(), platform.config().http().port());
  }

  public ManagementVerticle(Platform platform, String host, int port) {
    this.platform = platform;
    this.host = host;
    this.port = port;
  }

  /** On MANAGEMENT_HOST/MANAGEMENT_PORT: beside a gateway node's public port. */
  public static ManagementVerticle beside(Platform platform) {
    return new ManagementVerticle(platform, platform.config().edge().managementHost(),
        platform.config().edge().managementPort());
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router.route().handler(new RequestIdHandler());
    router.get("/health/live").handler(ctx -> ctx.json(new JsonObject().put("status", "UP")));
    HealthChecks checks = HealthChecks.create(vertx);
    checks.register("database", 2000, promise -> platform.database().ping()
        .onSuccess(ok -> promise.complete(Status.OK()))
        .onFailure(err -> promise.complete(Status.KO(new JsonObject().put("error", String.valueOf(err.getMessage()))))));
    router.get("/health/ready").handler(HealthCheckHandler.createWithHealthChecks(checks));
    router.get("/metrics").handler(PrometheusScrapingHandler.create());
    router.route().last().handler(ctx -> HttpErrors.send(ctx, 404, "This port serves only /health and /metrics"
        + ".", "invalid_request_error", "not_found"));
    router.route().failureHandler(HttpErrors::onFailure);
    return vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port))
        .requestHandler(router).listen().onSuccess(s -> server = s);
  }

  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }
}
