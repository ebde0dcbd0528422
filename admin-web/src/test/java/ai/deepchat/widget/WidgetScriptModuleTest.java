package ai.deepchat.widget;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The widget script over HTTP: a short-cached loader redirect and an immutable content-hashed file. */
@ExtendWith(VertxExtension.class)
class WidgetScriptModuleTest {

  @Test
  void servesTheLoaderAndTheHashedScript(Vertx vertx) throws Exception {
    WidgetScriptModule module = new WidgetScriptModule();
    Router router = Router.router(vertx);
    module.mount(router);
    HttpServer server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    HttpClient http = HttpClient.newHttpClient();
    String base = "http://127.0.0.1:" + server.actualPort();

    HttpResponse<String> loader = http.send(HttpRequest.newBuilder(URI.create(base + "/widget.js"))
        .header("Origin", "https://shop.example").build(), HttpResponse.BodyHandlers.ofString());
    assertThat(loader.statusCode()).isEqualTo(302);
    assertThat(loader.headers().firstValue("Location")).contains(module.hashedPath());
    assertThat(loader.headers().firstValue("Cache-Control")).contains("public, max-age=300");
    assertThat(module.hashedPath()).matches("/widget/[0-9a-f]{16}\\.js");

    HttpResponse<String> script = http.send(HttpRequest.newBuilder(URI.create(base + module.hashedPath()))
        .header("Origin", "https://shop.example").build(), HttpResponse.BodyHandlers.ofString());
    assertThat(script.statusCode()).isEqualTo(200);
    assertThat(script.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/javascript");
    assertThat(script.headers().firstValue("Cache-Control")).contains("public, max-age=31536000, immutable");
    assertThat(script.headers().firstValue("Access-Control-Allow-Origin")).contains("*");
    assertThat(script.body()).contains("attachShadow").doesNotContain("innerHTML").doesNotContain("postMessage(");
    assertThat(module.hashedPath()).contains(WidgetScriptModule.sha256(script.body().getBytes(
        java.nio.charset.StandardCharsets.UTF_8)).substring(0, 16));

    HttpResponse<String> cached = http.send(HttpRequest.newBuilder(URI.create(base + module.hashedPath()))
        .header("If-None-Match", script.headers().firstValue("ETag").orElseThrow()).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(cached.statusCode()).isEqualTo(304);

    HttpResponse<String> stale = http.send(HttpRequest.newBuilder(URI.create(base + "/widget/0000000000000000.js"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(stale.statusCode()).isEqualTo(404);
    assertThat(module.gzipBytes()).isPositive().isLessThan(module.sizeBytes());
  }

  /** The source is kept in parts; what a site loads is every part, in name order, joined byte for byte. */
  @Test
  void servesEveryPartJoinedInOrder(Vertx vertx) throws Exception {
    Path folder = Path.of("src/main/resources/widget");
    List<String> files;
    try (Stream<Path> list = Files.list(folder)) {
      files = list.map(p -> "widget/" + p.getFileName()).sorted().toList();
    }
    assertThat(WidgetScriptModule.PARTS).as("every file in %s is joined, in name order", folder).isEqualTo(files);
    List<byte[]> parts = new ArrayList<>();
    ByteArrayOutputStream joined = new ByteArrayOutputStream();
    for (String part : WidgetScriptModule.PARTS) {
      byte[] bytes = Files.readAllBytes(folder.resolve(part.substring("widget/".length())));
      assertThat(bytes).as(part).isNotEmpty();
      assertThat(bytes[bytes.length - 1]).as("%s ends with a line break", part).isEqualTo((byte) '\n');
      parts.add(bytes);
      joined.write(bytes);
    }
    assertThat(new String(parts.get(0), StandardCharsets.UTF_8)).startsWith("/*! DeepChat widget");

    WidgetScriptModule module = new WidgetScriptModule();
    Router router = Router.router(vertx);
    module.mount(router);
    HttpServer server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    HttpResponse<byte[]> script = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + server.actualPort() + module.hashedPath())).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(script.statusCode()).isEqualTo(200);
    assertThat(script.body()).isEqualTo(joined.toByteArray());
    assertThat(module.hashedPath()).isEqualTo("/widget/" + WidgetScriptModule.sha256(joined.toByteArray())
        .substring(0, 16) + ".js");
  }
}
