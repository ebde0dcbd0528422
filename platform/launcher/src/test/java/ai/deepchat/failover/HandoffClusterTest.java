package ai.deepchat.failover;

import ai.deepchat.launcher.NodeProcess;
import ai.deepchat.platform.security.PasswordHasher;
import ai.deepchat.platform.security.TenantKeys;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.net.CookieManager;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A human handoff across a two-node cluster: the visitor's widget socket on one node, the agent's inbox
 * (SSE) on the other, every message crossing the event bus; then the agent's node is killed
 * mid-conversation: nothing acknowledged is lost, and after the presence timeout the conversation is back
 * in the queue, where an agent on the surviving node takes it over.
 */
@Tag("failover-processes") // runs in two forks beside its peers: platform/launcher/pom.xml
class HandoffClusterTest {

  private static final String ORIGIN = "https://shop.example";
  private static final String PASSWORD = "correct horse battery";

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void agentNodeKilledMidConversation(@TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir) throws Exception {
    Vertx client = Vertx.vertx();
    try (ClusterFixture cluster = new ClusterFixture(dir, 2, Map.of("HANDOFF_HEARTBEAT_SECONDS", "1",
        "HANDOFF_AGENT_TIMEOUT_SECONDS", "4"))) {
      List<NodeProcess> nodes = cluster.startAll(List.of("visitor-node", "agent-node"), List.of("gateway", "gateway"));
      NodeProcess visitorNode = nodes.get(0);
      NodeProcess agentNode = nodes.get(1);
      String widgetKey = tenant(cluster);

      String token = WidgetSockets.session(visitorNode.httpPort, widgetKey, ORIGIN);
      String visitorId = visitorId(token);
      UUID conversation = conversation(cluster, visitorId);
      // as the widget script does: the history first, then the socket
      HttpResponse<String> widgetHistory = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + visitorNode.httpPort + "/widget/history?conversationId=" + conversation))
          .header("Origin", ORIGIN).header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(widgetHistory.statusCode()).as(widgetHistory.body()).isEqualTo(200);
      BlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();
      WebSocket ws = WidgetSockets.connect(client, visitorNode.httpPort, token, ORIGIN, frames);

      Staff ann = new Staff(agentNode.httpPort, "ann@shop.test").listen();
      HttpResponse<String> queued = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + visitorNode.httpPort + "/widget/handoff")).header("Origin", ORIGIN)
          .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("conversation_id", conversation.toString()).encode()))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(new JsonObject(queued.body()).getString("state")).as(queued.body()).isEqualTo("queued");
      ann.next("queue");

      String path = "/console/api/inbox/" + conversation;
      ann.ok(ann.post(path + "/claim", new JsonObject()));
      assertThat(next(frames, "handoff.assigned").getJsonObject("agent").getString("name")).isEqualTo("Ann");

      // visitor (node 1) -> agent (node 2) and back, over the bus
      ws.writeTextMessage(new JsonObject().put("type", "message").put("text", "my parcel is lost")
          .put("conversationId", conversation.toString()).put("clientMessageId", "v-1").encode());
      next(frames, "visitor.stored");
      assertThat(ann.next("message").getString("text")).isEqualTo("my parcel is lost");
      JsonObject first = ann.ok(ann.post(path + "/reply", new JsonObject().put("text", "Let me check.").put("client_id", "a-1")));
      assertThat(next(frames, "agent.message").getString("id")).isEqualTo(first.getString("id"));

      // an acknowledged reply, then the agent's node dies
      JsonObject last = ann.ok(ann.post(path + "/reply", new JsonObject().put("text", "Found it.").put("client_id", "a-2")));
      agentNode.sigkill();
      assertThat(agentNode.awaitExit(Duration.ofSeconds(20))).isTrue();
      assertThat(stored(cluster, "a-2")).isEqualTo(1);

      // no heartbeat for the timeout: back in the queue, and the visitor is told its place
      JsonObject requeued = next(frames, "handoff.queued");
      assertThat(requeued.getString("conversation_id")).isEqualTo(conversation.toString());

      Staff bob = new Staff(visitorNode.httpPort, "bob@shop.test");
      bob.ok(bob.post(path + "/claim", new JsonObject()));
      assertThat(next(frames, "handoff.assigned").getJsonObject("agent").getString("name")).isEqualTo("Bob");
      bob.ok(bob.post(path + "/reply", new JsonObject().put("text", "Bob here, taking over.").put("client_id", "b-1")));
      assertThat(next(frames, "agent.message").getString("text")).isEqualTo("Bob here, taking over.");

      JsonObject history = bob.ok(bob.get(path));
      List<String> texts = history.getJsonArray("messages").stream().map(o -> ((JsonObject) o).getString("text")).toList();
      assertThat(texts).containsSubsequence("my parcel is lost", "Let me check.", "Found it.", "Bob here, taking over.");
      assertThat(texts.stream().filter("Found it."::equals)).hasSize(1);
      assertThat(last.getString("id")).isNotNull();
    } finally {
      client.close();
    }
  }

  private static JsonObject next(BlockingQueue<JsonObject> frames, String type) throws InterruptedException {
    return WidgetSockets.next(frames, type);
  }

  private static String visitorId(String token) {
    String payload = token.split("\\.")[1];
    return new JsonObject(new String(java.util.Base64.getUrlDecoder().decode(payload), StandardCharsets.UTF_8)).getString("vid");
  }

  /** A tenant whose widget allows {@link #ORIGIN}, with two agents (Ann, Bob) and claims by hand; its widget key. */
  private static String tenant(ClusterFixture cluster) throws Exception {
    try (Connection c = cluster.owner()) {
      UUID tenant;
      try (PreparedStatement st = c.prepareStatement("INSERT INTO tenants (slug, name) VALUES ('shop', 'shop') RETURNING id")) {
        ResultSet rs = st.executeQuery();
        rs.next();
        tenant = (UUID) rs.getObject(1);
      }
      String key = TenantKeys.newWidgetKey(tenant);
      String hash = PasswordHasher.hash(PASSWORD);
      try (PreparedStatement st = c.prepareStatement("INSERT INTO tenant_settings (tenant_id) VALUES (?); "
          + "INSERT INTO widget_settings (tenant_id, public_key, allowed_origins) VALUES (?, ?, ARRAY['" + ORIGIN + "']); "
          + "INSERT INTO handoff_settings (tenant_id, assignment) VALUES (?, 'pick'); "
          + "INSERT INTO users (tenant_id, email, display_name, password_hash, role) VALUES "
          + "(?, 'ann@shop.test', 'Ann', ?, 'agent'), (?, 'bob@shop.test', 'Bob', ?, 'agent')")) {
        st.setObject(1, tenant);
        st.setObject(2, tenant);
        st.setString(3, key);
        st.setObject(4, tenant);
        st.setObject(5, tenant);
        st.setString(6, hash);
        st.setObject(7, tenant);
        st.setString(8, hash);
        st.execute();
      }
      return key;
    }
  }

  private static UUID conversation(ClusterFixture cluster, String visitorId) throws Exception {
    try (Connection c = cluster.owner(); PreparedStatement st = c.prepareStatement("INSERT INTO conversations "
        + "(tenant_id, visitor_id, channel, title) SELECT id, ?, 'widget', 'parcel' FROM tenants WHERE slug = 'shop' RETURNING id")) {
      st.setString(1, visitorId);
      ResultSet rs = st.executeQuery();
      rs.next();
      return (UUID) rs.getObject(1);
    }
  }

  private static int stored(ClusterFixture cluster, String clientId) throws Exception {
    try (Connection c = cluster.owner(); PreparedStatement st = c.prepareStatement(
        "SELECT count(*) FROM handoff_messages WHERE client_id = ?")) {
      st.setString(1, clientId);
      ResultSet rs = st.executeQuery();
      rs.next();
      return rs.getInt(1);
    }
  }

  /** An agent signed in to the console of one node: JSON calls with the CSRF header, the inbox events. */
  private static final class Staff {
    final int port;
    final HttpClient http = HttpClient.newBuilder().cookieHandler(new CookieManager())
        .followRedirects(HttpClient.Redirect.NEVER).build();
    final BlockingQueue<JsonObject> events = new LinkedBlockingQueue<>();
    final String csrf;

    Staff(int port, String email) throws Exception {
      this.port = port;
      Matcher field = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"").matcher(get("/console/login").body());
      assertThat(field.find()).isTrue();
      String form = Map.of("workspace", "shop", "email", email, "password", PASSWORD, "next", "/console/",
              "_csrf", field.group(1)).entrySet().stream()
          .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8)).collect(Collectors.joining("&"));
      HttpResponse<String> login = http.send(HttpRequest.newBuilder(uri("/console/login")).header("Origin", base())
          .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(login.statusCode()).as(login.body()).isEqualTo(303);
      Matcher meta = Pattern.compile("name=\"csrf-token\" content=\"([^\"]+)\"").matcher(get("/console/account").body());
      assertThat(meta.find()).isTrue();
      csrf = meta.group(1);
    }

    String base() {
      return "http://127.0.0.1:" + port;
    }

    URI uri(String path) {
      return URI.create(base() + path);
    }

    HttpResponse<String> get(String path) throws Exception {
      return http.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, JsonObject body) throws Exception {
      return http.send(HttpRequest.newBuilder(uri(path)).header("Origin", base()).header("X-CSRF-Token", csrf)
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(),
          HttpResponse.BodyHandlers.ofString());
    }

    JsonObject ok(HttpResponse<String> r) {
      assertThat(r.statusCode()).as(r.body()).isBetween(200, 299);
      return new JsonObject(r.body());
    }

    Staff listen() throws Exception {
      HttpResponse<java.util.stream.Stream<String>> r = http.send(HttpRequest.newBuilder(uri("/console/api/inbox/events"))
          .GET().build(), HttpResponse.BodyHandlers.ofLines());
      assertThat(r.statusCode()).isEqualTo(200);
      Thread reader = new Thread(() -> {
        String[] event = {null};
        try {
          r.body().forEach(line -> {
            if (line.startsWith("event: ")) {
              event[0] = line.substring(7);
            } else if (line.startsWith("data: ")) {
              events.add(new JsonObject(line.substring(6)).put("_event", event[0]));
            }
          });
        } catch (RuntimeException closed) {
          // the node died: the stream ends
        }
      }, "inbox-events");
      reader.setDaemon(true);
      reader.start();
      return this;
    }

    JsonObject next(String event) throws InterruptedException {
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      List<JsonObject> seen = new ArrayList<>();
      while (System.nanoTime() < until) {
        JsonObject e = events.poll(100, TimeUnit.MILLISECONDS);
        if (e != null) {
          seen.add(e);
          if (event.equals(e.getString("_event"))) {
            return e;
          }
        }
      }
      throw new AssertionError("no '" + event + "' event; saw " + seen);
    }
  }
}
