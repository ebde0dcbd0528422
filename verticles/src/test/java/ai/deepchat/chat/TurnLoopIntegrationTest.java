package ai.deepchat.chat;

import ai.deepchat.chat.conversation.TurnLoops;
import ai.deepchat.platform.chat.ChatMessages.RouteDecision;
import ai.deepchat.platform.chat.ChatMessages.RouteRequest;
import ai.deepchat.platform.chat.ChatMessages.TurnAck;
import ai.deepchat.platform.chat.ChatMessages.TurnEvent;
import ai.deepchat.platform.chat.ChatMessages.TurnEvents;
import ai.deepchat.platform.chat.ChatMessages.TurnRequest;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * #25, PIPELINE_ON_EDGE_LOOP: a turn that arrives at a node running the pipeline stays on the event
 * loop of the edge that took it. The node is deployed as the launcher deploys it (several gateway and conversation instances,
 * the emulated DeepSeek API as the remote model); the bus's own interceptors (Vert.x API, no part of
 * ours replaced) note which thread sends each turn's request and which thread acknowledges it (the
 * pipeline's, after storing the turn), and that the turn's events cross no bus message: the edge's
 * inbox is in this JVM, so the pipeline hands them over directly (#25).
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TurnLoopIntegrationTest {

  private ChatHarness h;
  private ChatHarness.Tenant tenant;
  /**
   * Per turn id: the thread that asked for the turn, the thread that acknowledged it, and the threads
   * that sent its events over the bus.
   */
  private final Map<String, String> askedOn = new ConcurrentHashMap<>();
  private final Map<String, String> ackedOn = new ConcurrentHashMap<>();
  private final Map<String, Set<String>> eventsSentOn = new ConcurrentHashMap<>();
  /** Per route request's reply address: the thread that asked the router, and the thread that answered. */
  private final Map<String, String> routeAskedOn = new ConcurrentHashMap<>();
  private final Map<String, String> routeAnsweredOn = new ConcurrentHashMap<>();
  private final io.vertx.core.Handler<DeliveryContext<Object>> recorder = this::record;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    h = new ChatHarness(vertx).start(Map.of("PIPELINE_ON_EDGE_LOOP", "true"));
    tenant = h.tenant("loops");
    vertx.eventBus().addOutboundInterceptor(recorder);
  }

  @AfterAll
  void stop(Vertx vertx) {
    vertx.eventBus().removeOutboundInterceptor(recorder);
  }

  private void record(DeliveryContext<Object> ctx) {
    String thread = Thread.currentThread().getName();
    Object body = ctx.message().body();
    if (body instanceof TurnRequest req) {
      askedOn.putIfAbsent(req.turnId(), thread);
    } else if (body instanceof TurnAck ack) {
      ackedOn.putIfAbsent(ack.turnId(), thread);
    } else if (body instanceof TurnEvents batch) {
      batch.events().forEach(e -> sentOn(e, thread));
    } else if (body instanceof TurnEvent event) {
      sentOn(event, thread);
    } else if (body instanceof RouteRequest && ctx.message().replyAddress() != null) {
      routeAskedOn.putIfAbsent(ctx.message().replyAddress(), thread);
    } else if (body instanceof RouteDecision) {
      routeAnsweredOn.putIfAbsent(ctx.message().address(), thread);
    }
    ctx.next();
  }

  private void sentOn(TurnEvent event, String thread) {
    eventsSentOn.computeIfAbsent(event.turnId(), k -> ConcurrentHashMap.newKeySet()).add(thread);
  }

  @Test
  void everyEventLoopHasAConversationVerticleOfItsOwn() {
    assertThat(h.vertx.sharedData().getLocalMap("deepchat.turn.loops")).hasSize(TurnLoops.eventLoops(h.vertx));
  }

  @Test
  void everyEventLoopHasAnIntentRouterOfItsOwn() {
    assertThat(h.vertx.sharedData().getLocalMap("deepchat.route.loops")).hasSize(TurnLoops.eventLoops(h.vertx));
  }

  /**
   * The fourteenth session (#25): a turn's routing request is answered on the thread that asked, by the router
   * on that loop; before, the one router's loop answered every turn, so turns on other loops woke it and were
   * woken back.
   */
  @Test
  void eachTurnIsRoutedOnTheThreadItRunsOn() throws Exception {
    for (CompletableFuture<HttpResponse<String>> answer : burst("ROUTE")) {
      assertThat(answer.get().statusCode()).isEqualTo(200);
    }
    assertThat(routeAskedOn).as("turns routed").hasSizeGreaterThanOrEqualTo(12);
    routeAskedOn.forEach((reply, asker) -> {
      assertThat(asker).as("route %s asked from an event loop", reply).startsWith("vert.x-eventloop-thread-");
      assertThat(routeAnsweredOn.get(reply)).as("thread that answered route %s", reply).isEqualTo(asker);
    });
    assertThat(Set.copyOf(routeAskedOn.values())).as("loops that routed turns").hasSizeGreaterThan(1);
  }

  /** Twelve streamed turns at once: several connections, which Vert.x spreads over the gateway instances. */
  private List<CompletableFuture<HttpResponse<String>>> burst(String text) {
    List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      JsonObject body = new JsonObject().put("stream", true).put("messages", new JsonArray()
          .add(new JsonObject().put("role", "user").put("content", text + " " + i)));
      answers.add(h.http.sendAsync(h.request("/v1/chat/completions").timeout(Duration.ofSeconds(20))
              .header("Authorization", "Bearer " + tenant.apiKey()).header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    return answers;
  }

  @Test
  void eachStreamedTurnRunsOnTheThreadOfTheEdgeThatTookIt() throws Exception {
    // concurrent requests open several connections, which Vert.x spreads over the gateway instances
    List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      JsonObject body = new JsonObject().put("stream", true).put("messages", new JsonArray()
          .add(new JsonObject().put("role", "user").put("content", "BURST " + i)));
      answers.add(h.http.sendAsync(h.request("/v1/chat/completions").timeout(Duration.ofSeconds(20))
              .header("Authorization", "Bearer " + tenant.apiKey()).header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    for (CompletableFuture<HttpResponse<String>> answer : answers) {
      HttpResponse<String> resp = answer.get();
      assertThat(resp.statusCode()).isEqualTo(200);
      assertThat(resp.body()).contains(" w19").endsWith("data: [DONE]\n\n");
    }
    assertThat(askedOn).hasSizeGreaterThanOrEqualTo(12);
    Set<String> edges = ConcurrentHashMap.newKeySet();
    askedOn.forEach((turn, edge) -> {
      edges.add(edge);
      assertThat(edge).as("turn %s asked from an event loop", turn).startsWith("vert.x-eventloop-thread-");
      // the pipeline that stored the turn (and read its answer) ran on the edge's own thread
      assertThat(ackedOn.get(turn)).as("thread that acknowledged turn %s", turn).isEqualTo(edge);
      // and handed the answer's deltas and its end to the edge without the bus
      assertThat(eventsSentOn.get(turn)).as("threads that sent turn %s's events over the bus", turn).isNull();
    });
    assertThat(edges).as("the turns came through more than one gateway loop").hasSizeGreaterThan(1);
  }
}
