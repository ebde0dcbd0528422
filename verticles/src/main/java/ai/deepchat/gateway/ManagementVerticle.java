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
 * Health and metrics for nodes without the gateway role (pipeline, RAG, GPU workers), on the same
 * HTTP_HOST/HTTP_PORT, so Kubernetes can probe them and Prometheus can scrape their worker and GPU
 * gauges. It serves nothing else: the API lives on gateway nodes only.
 */
public final class ManagementVerticle extends VerticleBase {

  private final Platform platform;
  private HttpServer server;

  public ManagementVerticle(Platform platform) {
    this.platform = platform;
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
    router.route().last().handler(ctx -> HttpErrors.send(ctx, 404, "This node serves only /health and /metrics"
        + " (no gateway role).", "invalid_request_error", "not_found"));
    router.route().failureHandler(HttpErrors::onFailure);
    return vertx.createHttpServer(new HttpServerOptions()
            .setHost(platform.config().http().host()).setPort(platform.config().http().port()))
        .requestHandler(router).listen().onSuccess(s -> server = s);
  }

  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }
}
