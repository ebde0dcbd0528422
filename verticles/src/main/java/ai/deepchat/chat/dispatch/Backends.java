package ai.deepchat.chat.dispatch;

import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.outbound.OutboundPolicy;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;

/**
 * Builds the backend of a model choice; one HTTP client (connection pool) and one watch on worker
 * nodes per pipeline verticle.
 */
public final class Backends {

  private final Vertx vertx;
  private final HttpClient http;
  private final long requestTimeoutMs;
  private final long idleTimeoutMs;
  private final WorkerWatch workers;
  private final OutboundPolicy outbound;

  /** {@code outbound}: the node's policy every OpenAI-compatible endpoint is checked and pinned by. */
  public Backends(Vertx vertx, PlatformConfig.Chat chat, OutboundPolicy outbound) {
    this.vertx = vertx;
    this.outbound = outbound;
    this.requestTimeoutMs = chat.requestTimeoutMs();
    this.idleTimeoutMs = chat.idleTimeoutMs();
    this.workers = new WorkerWatch(vertx);
    this.http = vertx.createHttpClient(new HttpClientOptions()
        .setConnectTimeout((int) chat.requestTimeoutMs())
        // requests connect to a checked address: TLS must still name and verify the URL's host
        .setVerifyHost(true).setForceSni(true)
        .setKeepAlive(true), new PoolOptions().setHttp1MaxSize(64));
  }

  public ModelBackend forChoice(ModelChoice choice) {
    ModelBackend primary = of(choice.primary());
    return choice.fallback() == null ? primary
        : new FallbackBackend(primary, of(choice.fallback()), choice.primary().describe());
  }

  private ModelBackend of(BackendSpec spec) {
    return switch (spec.kind()) {
      case LOCAL -> new EngineBusBackend(vertx, spec.target(), requestTimeoutMs, idleTimeoutMs, workers);
      case OPENAI -> new OpenAiHttpBackend(vertx, http, outbound, spec, requestTimeoutMs, idleTimeoutMs);
    };
  }

  public void close() {
    try {
      workers.close();
    } catch (Exception e) {
      // the cluster is going down with us; nothing to release
    }
    http.close();
  }
}
