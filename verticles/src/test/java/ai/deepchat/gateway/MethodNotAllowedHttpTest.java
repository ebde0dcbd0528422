package ai.deepchat.gateway;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The gateway's last handler over real HTTP, with a pass-through guard like {@link StreamingRoutes}'s:
 * a route that only calls {@code next()} makes no endpoint, so a request with its method is 404, never
 * a 405 telling the caller to use the method it used (POST /v1/completions said "use POST").
 */
class MethodNotAllowedHttpTest {

  static Vertx vertx;
  static WebClient client;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    Router router = Router.router(vertx);
    router.route(HttpMethod.POST, "/v1/guarded").handler(ctx -> ctx.next());
    router.route(HttpMethod.POST, "/v1/served").handler(ctx -> ctx.next());
    router.post("/v1/served").handler(ctx -> ctx.response().end("ok"));
    router.route().last().handler(ctx -> MethodNotAllowed.handle(router, ctx));
    HttpServer server = await(vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1"));
    port = server.actualPort();
    client = WebClient.create(vertx);
  }

  @AfterAll
  static void stop() throws Exception {
    await(vertx.close());
  }

  @Test
  void aMethodOnlyAGuardMatchedIsNotFound() throws Exception {
    HttpResponse<Buffer> r = await(client.request(HttpMethod.POST, port, "127.0.0.1", "/v1/guarded").send());
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(404);
    assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("not_found");
    assertThat(r.getHeader("Allow")).isNull();
  }

  @Test
  void anotherMethodOnAServedPathIsNotAllowed() throws Exception {
    HttpResponse<Buffer> r = await(client.request(HttpMethod.GET, port, "127.0.0.1", "/v1/served").send());
    assertThat(r.statusCode()).isEqualTo(405);
    assertThat(r.getHeader("Allow")).isEqualTo("POST");
    assertThat(await(client.request(HttpMethod.POST, port, "127.0.0.1", "/v1/served").send()).bodyAsString())
        .isEqualTo("ok");
  }
}
