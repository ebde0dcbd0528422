package ai.deepchat.chat.conversation;

import ai.deepchat.platform.chat.ChatMessages;
import ai.deepchat.platform.chat.ChatMessages.TurnRequest;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.PgWireCounter;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static ai.deepchat.chat.conversation.HeldChoice.HELD;
import static ai.deepchat.chat.conversation.HeldChoice.MODEL;
import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A common turn's begin on the wire (a proxy between a one-connection pool and PostgreSQL), with the tenant's
 * settings and the model choice held by the node: one statement in one round trip (V56's begin_turn, its own
 * transaction), not BEGIN, tenant setting, [key lookup], the writes and COMMIT. The outcomes as in a transaction
 * (a used key takes the retry's path, a race for a key is turn_in_progress, another visitor's or tenant's
 * conversation is not found, a failure keeps nothing), confined to its tenant by row-level security and leaving
 * no tenant on the pooled connection.
 */
class BeginStatementTest {

  private static final int TURNS = 8;
  private static Vertx vertx;
  private static TestDatabase testDb;
  private static PgWireCounter wire;
  private static Database viaProxy;
  private static WorkerExecutor tokenizer;
  private static UUID tenantA;
  private static UUID tenantB;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    testDb = TestDatabase.fresh(vertx);
    tenantA = await(testDb.tenant("begin-a"));
    tenantB = await(testDb.tenant("begin-b"));
    wire = new PgWireCounter(vertx, testDb.owner().host(), testDb.owner().port());
    int port = await(wire.start());
    viaProxy = testDb.poolVia(vertx, "127.0.0.1", port, 1);
    // as while the node's LISTEN is live (AuthChangeVerticle): the settings read by a turn are kept
    viaProxy.chatSettings().reset(true);
    tokenizer = vertx.createSharedWorkerExecutor("begin-statement-tokenizer", 1);
  }

  @AfterAll
  static void stop() throws Exception {
    await(vertx.close());
  }


  private static ConversationStore store() {
    return new ConversationStore(vertx, tokenizer, viaProxy, String::length);
  }

  private static TurnRequest request(UUID tenant, String channel, String visitor, UUID conversation, String key,
                                     String mediaId, List<ChatMessage> messages) {
    return new TurnRequest(UUID.randomUUID().toString(), tenant.toString(), channel,
        conversation == null ? null : conversation.toString(), visitor, key, messages, null,
        SamplingParams.greedy(16), "events", false, null, mediaId);
  }

  /** A widget turn; {@code continuing}: of the stored {@code conversation} (else one begun by this turn). */
  private static Future<ConversationStore.Begun> widget(ConversationStore store, UUID tenant, String visitor,
                                                        UUID conversation, boolean continuing, String question,
                                                        String key) {
    TurnRequest req = request(tenant, ChatMessages.CHANNEL_WIDGET, visitor, continuing ? conversation : null, key,
        null, List.of(new ChatMessage("user", question)));
    return store.begin(tenant, req, conversation, HELD, (m, extra) -> null);
  }

  private static Future<ConversationStore.Begun> api(ConversationStore store, UUID tenant, String question) {
    TurnRequest req = request(tenant, ChatMessages.CHANNEL_API, null, null, null, null,
        List.of(new ChatMessage("user", "earlier"), new ChatMessage("assistant", "reply"),
            new ChatMessage("user", question)));
    return store.begin(tenant, req, UUID.randomUUID(), HELD, (m, extra) -> null);
  }

  private static Future<Void> finish(ConversationStore store, UUID tenant, ConversationStore.Begun b) {
    return store.finish(tenant, b.conversationId(), b.assistantMessageId(), "complete", "answer", null, List.of(),
        "chat", 0, new Usage(1, 1), null);
  }

  private static String ownerQuery(String sql) throws Exception {
    try (var c = testDb.ownerJdbc(); ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static int count(String sql) throws Exception {
    return Integer.parseInt(ownerQuery(sql));
  }

  /** What the one pooled connection holds now, with no tenant set: its setting, and the messages it sees. */
  private static String leftOnTheConnection() throws Exception {
    return await(viaProxy.pool().query("SELECT coalesce(current_setting('app.tenant_id', true), '') || '/' || "
        + "(SELECT count(*) FROM messages)").execute().map(rows -> rows.iterator().next().getString(0)));
  }

  private static <T> Throwable failure(Future<T> f) throws Exception {
    await(f.otherwiseEmpty());
    assertThat(f.failed()).as("failed").isTrue();
    return f.cause();
  }

  @Test
  void aCommonTurnIsOneStatementInOneRoundTrip() throws Exception {
    ConversationStore store = store();
    UUID conversation = UUID.randomUUID();
    // warm-up: the settings read and kept, the statements prepared
    await(widget(store, tenantA, "v1", conversation, false, "first", null).compose(b -> finish(store, tenantA, b)));
    await(api(store, tenantA, "warm-up").compose(b -> finish(store, tenantA, b)));
    long commands = 0;
    long roundTrips = 0;
    for (int i = 0; i < TURNS; i++) {
      long c0 = wire.commands();
      long r0 = wire.roundTrips();
      ConversationStore.Begun continuing = await(widget(store, tenantA, "v1", conversation, true, "question " + i,
          "key-" + UUID.randomUUID()));
      ConversationStore.Begun started = await(widget(store, tenantA, "v2", UUID.randomUUID(), false, "hello " + i,
          null));
      ConversationStore.Begun ofApi = await(api(store, tenantA, "api " + i));
      commands += wire.commands() - c0;
      roundTrips += wire.roundTrips() - r0;
      // the history as a transaction read it: every complete turn before, oldest first
      List<String> expected = new ArrayList<>(List.of("first", "answer"));
      for (int j = 0; j < i; j++) {
        expected.addAll(List.of("question " + j, "answer"));
      }
      assertThat(continuing.history()).extracting(ChatMessage::content).containsExactlyElementsOf(expected);
      assertThat(continuing.history().get(1).role()).isEqualTo("assistant");
      assertThat(started.history()).isEmpty();
      assertThat(ofApi.history()).extracting(ChatMessage::content).containsExactly("earlier", "reply");
      assertThat(continuing.model()).isSameAs(MODEL);
      assertThat(continuing.sampling().maxTokens()).isEqualTo(16);
      await(finish(store, tenantA, continuing));
      await(finish(store, tenantA, started));
      await(finish(store, tenantA, ofApi));
    }
    // before: BEGIN, set_config, [the key's lookup], the conversation's insert or update, [the history], the
    // question and answer rows, COMMIT: 6 or 7 statements and 4 round trips per continuing widget turn
    assertThat(commands).isEqualTo(3L * TURNS);
    assertThat(roundTrips).isEqualTo(3L * TURNS);
    assertThat(leftOnTheConnection()).isEqualTo("/0");
    assertThat(count("SELECT count(*) FROM messages WHERE conversation_id = '" + conversation + "'"))
        .isEqualTo(2 + 2 * TURNS);
  }

  @Test
  void aUsedKeyTakesTheRetrysPath() throws Exception {
    ConversationStore store = store();
    UUID conversation = UUID.randomUUID();
    await(widget(store, tenantA, "r1", conversation, false, "warm-up", null).compose(b -> finish(store, tenantA, b)));
    ConversationStore.Begun first = await(widget(store, tenantA, "r1", conversation, true, "once", "key-r1"));
    // still streaming (and not stale): in progress
    Throwable inProgress = failure(widget(store, tenantA, "r1", conversation, true, "once", "key-r1"));
    assertThat(inProgress.getMessage()).contains("still being generated");
    await(finish(store, tenantA, first));
    ConversationStore.Begun replayed = await(widget(store, tenantA, "r1", conversation, true, "once", "key-r1"));
    assertThat(replayed.replay()).isNotNull();
    assertThat(replayed.replay().content()).isEqualTo("answer");
    assertThat(replayed.assistantMessageId()).isEqualTo(first.assistantMessageId());
    assertThat(replayed.model()).isSameAs(MODEL);
    assertThat(count("SELECT count(*) FROM messages WHERE idempotency_key = 'key-r1'")).isEqualTo(1);
    assertThat(leftOnTheConnection()).isEqualTo("/0");
  }

  /**
   * A second request with the key commits its question while this one's insert waits on the unique index: the
   * insert fails (unique violation), reported as turn_in_progress, and this call keeps nothing (its new
   * conversation included).
   */
  @Test
  void aRaceForAKeyIsTurnInProgressAndKeepsNothing() throws Exception {
    ConversationStore store = store();
    await(widget(store, tenantA, "k1", UUID.randomUUID(), false, "warm-up", null)
        .compose(b -> finish(store, tenantA, b)));
    UUID other = UUID.randomUUID();
    UUID mine = UUID.randomUUID();
    try (var c = testDb.ownerJdbc()) {
      c.setAutoCommit(false);
      try (var s = c.createStatement()) {
        s.execute("INSERT INTO conversations (id, tenant_id, channel, visitor_id) VALUES ('" + other + "', '"
            + tenantA + "', 'widget', 'k1')");
        s.execute("INSERT INTO messages (tenant_id, conversation_id, role, content, idempotency_key) VALUES ('"
            + tenantA + "', '" + other + "', 'user', 'q', 'key-race')");
      }
      Future<ConversationStore.Begun> racing = widget(store, tenantA, "k1", mine, false, "q", "key-race");
      for (int i = 0; i < 200 && count("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
          + "AND query LIKE '%begin_turn%'") == 0; i++) {
        Thread.sleep(25);
      }
      assertThat(racing.isComplete()).as("waiting on the other request's key").isFalse();
      c.commit();
      Throwable failed = failure(racing);
      assertThat(failed.getMessage()).isEqualTo("A request with this idempotency key is being processed.");
    }
    assertThat(count("SELECT count(*) FROM conversations WHERE id = '" + mine + "'")).isZero();
    assertThat(count("SELECT count(*) FROM messages WHERE idempotency_key = 'key-race'")).isEqualTo(1);
    assertThat(leftOnTheConnection()).isEqualTo("/0");
  }

  @Test
  void aFailedBeginKeepsNothing() throws Exception {
    ConversationStore store = store();
    await(api(store, tenantA, "warm-up").compose(b -> finish(store, tenantA, b)));
    UUID conversation = UUID.randomUUID();
    int messages = count("SELECT count(*) FROM messages");
    // a picture that is not stored: the question's insert fails after the conversation's
    TurnRequest req = request(tenantA, ChatMessages.CHANNEL_WIDGET, "f1", null, null, UUID.randomUUID().toString(),
        List.of(new ChatMessage("user", "see this")));
    long c0 = wire.commands();
    failure(store.begin(tenantA, req, conversation, HELD, (m, extra) -> null));
    assertThat(wire.commands() - c0).as("one statement").isEqualTo(1);
    assertThat(count("SELECT count(*) FROM conversations WHERE id = '" + conversation + "'")).isZero();
    assertThat(count("SELECT count(*) FROM messages")).isEqualTo(messages);
    assertThat(leftOnTheConnection()).isEqualTo("/0");
  }

  @Test
  void anotherVisitorsOrTenantsConversationIsNotFoundAndNothingIsKept() throws Exception {
    ConversationStore store = store();
    UUID conversation = UUID.randomUUID();
    await(widget(store, tenantB, "owner", conversation, false, "mine", null).compose(b -> finish(store, tenantB, b)));
    String updated = ownerQuery("SELECT updated_at::text FROM conversations WHERE id = '" + conversation + "'");
    int messages = count("SELECT count(*) FROM messages");
    Throwable visitor = failure(widget(store, tenantB, "intruder", conversation, true, "let me in", null));
    assertThat(visitor.getMessage()).isEqualTo("No such conversation.");
    // tenant A with the same visitor and id: row-level security, B's conversation is no conversation for A
    await(api(store, tenantA, "warm-up").compose(b -> finish(store, tenantA, b)));
    Throwable tenant = failure(widget(store, tenantA, "owner", conversation, true, "let me in", "key-x"));
    assertThat(tenant.getMessage()).isEqualTo("No such conversation.");
    assertThat(count("SELECT count(*) FROM messages")).isEqualTo(messages + 2); // A's warm-up only
    assertThat(ownerQuery("SELECT updated_at::text FROM conversations WHERE id = '" + conversation + "'"))
        .isEqualTo(updated);
    assertThat(leftOnTheConnection()).isEqualTo("/0");
    ConversationStore.Begun next = await(widget(store, tenantB, "owner", conversation, true, "again", null));
    assertThat(next.history()).extracting(ChatMessage::content).containsExactly("mine", "answer");
  }

  @Test
  void theFunctionDoesNotSwitchATransactionToAnotherTenant() throws Exception {
    UUID conversation = UUID.randomUUID();
    Future<Object> switched = viaProxy.inTenant(tenantA, c -> c.preparedQuery("SELECT * FROM begin_turn($1, $2, "
        + "false, 'api', NULL, 't', NULL, 'user', 'q', NULL, NULL, NULL, true, false, true)")
        .execute(Tuple.of(tenantB, conversation)).map(r -> null));
    assertThat(failure(switched).getMessage()).contains("another tenant");
    assertThat(count("SELECT count(*) FROM conversations WHERE id = '" + conversation + "'")).isZero();
    assertThat(leftOnTheConnection()).isEqualTo("/0");
  }

  /** RELIABILITY scenario 21 for begins: two tenants' turns interleaved, all in flight on the one connection. */
  @Test
  void interleavedBeginsOfTwoTenantsEachWriteOnlyTheirOwnRows() throws Exception {
    ConversationStore store = store();
    await(api(store, tenantA, "warm-up").compose(b -> finish(store, tenantA, b)));
    await(api(store, tenantB, "warm-up").compose(b -> finish(store, tenantB, b)));
    List<Future<ConversationStore.Begun>> begun = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      begun.add(api(store, i % 2 == 0 ? tenantA : tenantB, "turn " + i));
    }
    await(Future.all(begun));
    for (int i = 0; i < begun.size(); i++) {
      UUID own = i % 2 == 0 ? tenantA : tenantB;
      ConversationStore.Begun b = begun.get(i).result();
      assertThat(ownerQuery("SELECT tenant_id::text FROM conversations WHERE id = '" + b.conversationId() + "'"))
          .as("conversation %d", i).isEqualTo(own.toString());
      assertThat(ownerQuery("SELECT string_agg(DISTINCT tenant_id::text, ',') FROM messages WHERE id IN ('"
          + b.userMessageId() + "', '" + b.assistantMessageId() + "')")).as("messages %d", i).isEqualTo(own.toString());
      assertThat(ownerQuery("SELECT content FROM messages WHERE id = '" + b.userMessageId() + "'"))
          .isEqualTo("turn " + i);
    }
    assertThat(leftOnTheConnection()).isEqualTo("/0");
  }
}
