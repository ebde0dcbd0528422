package ai.deepchat.chat.conversation;

import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.chat.ChatMessages;
import ai.deepchat.platform.chat.ChatMessages.TurnRequest;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static ai.deepchat.chat.conversation.HeldChoice.HELD;
import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A common turn's begin (V56's begin_turn alone) is group-committed as the finish is: begins of one tenant
 * arriving on one event loop while one of that tenant's is in flight go together as one transaction, each
 * caller told only once it committed, each with its own ids and history; a begin that fails the batch fails
 * alone; tenants never share a batch. An earlier begin held on a row lock (an owner's transaction) keeps the
 * first transaction in flight while the others arrive, so the batches are known.
 */
class BeginGroupCommitTest {

  private static Vertx vertx;
  private static TestDatabase testDb;
  private static Database db;
  private static WorkerExecutor tokenizer;
  private static UUID tenantA;
  private static UUID tenantB;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    testDb = TestDatabase.fresh(vertx);
    tenantA = await(testDb.tenant("group-begin-a"));
    tenantB = await(testDb.tenant("group-begin-b"));
    db = testDb.pool(vertx, 4);
    // as while the node's LISTEN is live: the settings read by a turn are kept, so begins take the lone statement
    db.chatSettings().reset(true);
    tokenizer = vertx.createSharedWorkerExecutor("group-begin-tokenizer", 1);
  }

  @AfterAll
  static void stop() throws Exception {
    await(vertx.close());
  }

  /** Calls waiting for their bus message's handler, by the message's number. */
  private static final Map<Integer, Runnable> CALLS = new ConcurrentHashMap<>();
  private static final AtomicInteger CALLED = new AtomicInteger();

  /**
   * A store made on its own event loop, as a pipeline verticle's is; every call below runs in the handler of a
   * message to a consumer of that loop, as a turn's (Vert.x runs each on a duplicate of the consumer's context).
   */
  private record Loop(ConversationStore store, String address) {

    <T> Future<T> run(Supplier<Future<T>> call) {
      Promise<T> done = Promise.promise();
      int n = CALLED.incrementAndGet();
      CALLS.put(n, () -> call.get().onComplete(done));
      vertx.eventBus().send(address, n);
      return done.future();
    }

    Future<ConversationStore.Begun> widget(UUID tenant, String visitor, UUID conversation, boolean continuing,
                                           String question, String key, String mediaId) {
      TurnRequest req = new TurnRequest(UUID.randomUUID().toString(), tenant.toString(), ChatMessages.CHANNEL_WIDGET,
          continuing ? conversation.toString() : null, visitor, key, List.of(new ChatMessage("user", question)), null,
          SamplingParams.greedy(16), "events", false, null, mediaId);
      return run(() -> store.begin(tenant, req, conversation, HELD, (m, extra) -> null));
    }

    Future<ConversationStore.Begun> api(UUID tenant, String question) {
      TurnRequest req = new TurnRequest(UUID.randomUUID().toString(), tenant.toString(), ChatMessages.CHANNEL_API,
          null, null, null, List.of(new ChatMessage("user", "earlier"), new ChatMessage("assistant", "reply"),
          new ChatMessage("user", question)), null, SamplingParams.greedy(16), "events", false, null, null);
      return run(() -> store.begin(tenant, req, UUID.randomUUID(), HELD, (m, extra) -> null));
    }

    /** A widget conversation with one finished turn ({@code question}, "answer"), begun and finished here. */
    UUID conversation(UUID tenant, String visitor, String question) throws Exception {
      UUID conversation = UUID.randomUUID();
      ConversationStore.Begun b = await(widget(tenant, visitor, conversation, false, question, null, null));
      await(run(() -> store.finish(tenant, conversation, b.assistantMessageId(), "complete", "answer", null,
          List.of(), "chat", 0, new Usage(1, 1), null)));
      return conversation;
    }
  }

  private static Loop loop() throws Exception {
    Context context = vertx.getOrCreateContext();
    String address = "group-begin-" + UUID.randomUUID();
    Promise<ConversationStore> made = Promise.promise();
    context.runOnContext(v -> {
      ConversationStore store = new ConversationStore(vertx, tokenizer, db, String::length);
      vertx.eventBus().<Integer>localConsumer(address, msg -> CALLS.remove(msg.body()).run()).completion()
          .map(store).onComplete(made);
    });
    return new Loop(await(made.future()), address);
  }

  private static int count(String sql) throws Exception {
    try (var c = testDb.ownerJdbc(); ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /** Waits until {@code n} begin_turn calls wait on a lock. */
  private static void awaitLockWaits(int n) throws Exception {
    for (int i = 0; i < 400; i++) {
      if (count("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%begin_turn(%'")
          >= n) {
        return;
      }
      Thread.sleep(25);
    }
    throw new AssertionError(n + " begin_turn calls never waited on a lock");
  }

  /** An owner's open transaction holding {@code conversation}'s row: a turn continuing it waits. */
  private static java.sql.Connection holding(UUID... conversations) throws Exception {
    java.sql.Connection c = testDb.ownerJdbc();
    c.setAutoCommit(false);
    try (var s = c.createStatement()) {
      for (UUID conversation : conversations) {
        s.execute("SELECT 1 FROM conversations WHERE id = '" + conversation + "' FOR UPDATE");
      }
    }
    return c;
  }

  /** The distinct transactions that wrote the questions of {@code begun}. */
  private static Set<String> writers(List<Future<ConversationStore.Begun>> begun) throws Exception {
    Set<String> xids = new HashSet<>();
    try (var c = testDb.ownerJdbc(); var s = c.createStatement()) {
      for (Future<ConversationStore.Begun> b : begun) {
        try (ResultSet rs = s.executeQuery("SELECT xmin::text FROM messages WHERE id = '"
            + b.result().userMessageId() + "'")) {
          assertThat(rs.next()).isTrue();
          xids.add(rs.getString(1));
        }
      }
    }
    return xids;
  }

  @Test
  void beginsArrivingWhileOneIsInFlightGoAsOneTransactionAcknowledgedOnlyOnceCommitted() throws Exception {
    Loop loop = loop();
    await(loop.api(tenantA, "warm-up")); // the settings kept, the statement prepared
    UUID held = loop.conversation(tenantA, "x", "xq");
    UUID continued = loop.conversation(tenantA, "z", "zq");
    List<Future<ConversationStore.Begun>> batch = new ArrayList<>();
    Future<ConversationStore.Begun> inFlight;
    try (java.sql.Connection first = holding(held); java.sql.Connection second = holding(continued)) {
      inFlight = loop.widget(tenantA, "x", held, true, "held", null, null);
      awaitLockWaits(1);
      for (int i = 0; i < 6; i++) {
        batch.add(loop.widget(tenantA, "n" + i, UUID.randomUUID(), false, "new " + i, "key-n" + i, null));
      }
      batch.add(loop.widget(tenantA, "z", continued, true, "again", null, null));
      batch.add(loop.api(tenantA, "api"));
      Thread.sleep(1000); // every one waiting behind the begin in flight
      assertThat(batch).noneMatch(Future::isComplete);
      first.commit();
      await(inFlight);
      awaitLockWaits(1); // the batch, on the continued conversation's row
      // in one transaction with the continuing turn, which waits: none acknowledged, none visible
      assertThat(batch).noneMatch(Future::isComplete);
      assertThat(count("SELECT count(*) FROM messages WHERE content LIKE 'new %'")).isZero();
      second.commit();
      await(Future.all(batch));
    }
    // one transaction for the eight (one each before); the margin: one that reached the loop after the batch left
    Set<String> writers = writers(batch);
    assertThat(writers).hasSizeLessThanOrEqualTo(2);
    assertThat(writers).doesNotContainAnyElementsOf(writers(List.of(inFlight)));
    // each its own rows and history
    assertThat(inFlight.result().history()).extracting(ChatMessage::content).containsExactly("xq", "answer");
    Set<UUID> ids = new HashSet<>();
    for (int i = 0; i < 6; i++) {
      ConversationStore.Begun b = batch.get(i).result();
      assertThat(b.history()).isEmpty();
      assertThat(count("SELECT count(*) FROM messages WHERE id = '" + b.userMessageId() + "' AND content = 'new " + i
          + "' AND idempotency_key = 'key-n" + i + "' AND conversation_id = '" + b.conversationId() + "'")).isOne();
      assertThat(count("SELECT count(*) FROM messages WHERE id = '" + b.assistantMessageId() + "' AND reply_to = '"
          + b.userMessageId() + "' AND status = 'streaming'")).isOne();
      ids.add(b.userMessageId());
      ids.add(b.assistantMessageId());
    }
    assertThat(ids).hasSize(12);
    assertThat(batch.get(6).result().history()).extracting(ChatMessage::content).containsExactly("zq", "answer");
    assertThat(batch.get(6).result().conversationId()).isEqualTo(continued);
    assertThat(batch.get(7).result().history()).extracting(ChatMessage::content).containsExactly("earlier", "reply");
  }

  /**
   * In a batch, a begin racing another request for its key (which commits while the batch waits on the key's
   * index: unique violation) and one naming a picture that is not stored (foreign key): the batch rolls back, each
   * row runs again alone, and only those two fail, as they would have alone; the others are stored.
   */
  @Test
  void aBeginThatFailsItsBatchFailsAloneAndTheOthersAreStored() throws Exception {
    Loop loop = loop();
    await(loop.api(tenantA, "warm-up"));
    UUID held = loop.conversation(tenantA, "y", "yq");
    UUID racing = UUID.randomUUID();
    UUID other = UUID.randomUUID();
    List<Future<ConversationStore.Begun>> batch = new ArrayList<>();
    List<UUID> conversations = new ArrayList<>();
    try (java.sql.Connection first = holding(held); java.sql.Connection race = testDb.ownerJdbc()) {
      race.setAutoCommit(false);
      try (var s = race.createStatement()) { // the other request's begin, not yet committed
        s.execute("INSERT INTO conversations (id, tenant_id, channel, visitor_id) VALUES ('" + other + "', '"
            + tenantA + "', 'widget', 'k')");
        s.execute("WITH q AS (INSERT INTO messages (tenant_id, conversation_id, role, content, idempotency_key) "
            + "VALUES ('" + tenantA + "', '" + other + "', 'user', 'q', 'key-raced') RETURNING id) "
            + "INSERT INTO messages (tenant_id, conversation_id, role, content, status, reply_to) SELECT '" + tenantA
            + "', '" + other + "', 'assistant', '', 'streaming', id FROM q");
      }
      Future<ConversationStore.Begun> inFlight = loop.widget(tenantA, "y", held, true, "held", null, null);
      awaitLockWaits(1);
      for (int i = 0; i < 6; i++) {
        UUID conversation = i == 2 ? racing : UUID.randomUUID();
        conversations.add(conversation);
        batch.add(i == 2 ? loop.widget(tenantA, "k", conversation, false, "raced", "key-raced", null)
            : i == 4 ? loop.widget(tenantA, "m", conversation, false, "see this", null, UUID.randomUUID().toString())
            : loop.widget(tenantA, "f" + i, conversation, false, "kept " + i, null, null));
      }
      Thread.sleep(1000);
      first.commit();
      await(inFlight);
      awaitLockWaits(1); // the batch, on the key's index
      assertThat(batch).noneMatch(Future::isComplete);
      race.commit();
      await(Future.join(batch).otherwiseEmpty());
    }
    for (int i = 0; i < 6; i++) {
      assertThat(batch.get(i).succeeded()).as("turn %d", i).isEqualTo(i != 2 && i != 4);
    }
    // the key's race is turn_in_progress, as alone
    assertThat(BusFailure.of(batch.get(2).cause())).isEqualTo(BusFailure.TURN_IN_PROGRESS);
    assertThat(count("SELECT count(*) FROM messages WHERE content LIKE 'kept %'")).isEqualTo(4);
    assertThat(count("SELECT count(*) FROM conversations WHERE id IN ('" + racing + "', '" + conversations.get(4)
        + "')")).isZero();
    assertThat(count("SELECT count(*) FROM messages WHERE idempotency_key = 'key-raced'")).isOne();
  }

  @Test
  void twoTenantsBeginningTogetherNeverShareATransaction() throws Exception {
    Loop loop = loop();
    await(loop.api(tenantA, "warm-up"));
    await(loop.api(tenantB, "warm-up"));
    UUID heldA = loop.conversation(tenantA, "h", "a");
    UUID heldB = loop.conversation(tenantB, "h", "b");
    List<Future<ConversationStore.Begun>> ofA = new ArrayList<>();
    List<Future<ConversationStore.Begun>> ofB = new ArrayList<>();
    try (java.sql.Connection first = holding(heldA, heldB)) {
      Future<ConversationStore.Begun> inFlightA = loop.widget(tenantA, "h", heldA, true, "held", null, null);
      Future<ConversationStore.Begun> inFlightB = loop.widget(tenantB, "h", heldB, true, "held", null, null);
      awaitLockWaits(2);
      for (int i = 0; i < 12; i++) {
        (i % 2 == 0 ? ofA : ofB).add(loop.api(i % 2 == 0 ? tenantA : tenantB, "turn " + i));
      }
      Thread.sleep(1000);
      first.commit();
      await(Future.all(inFlightA, inFlightB));
      await(Future.all(ofA));
      await(Future.all(ofB));
    }
    Set<String> writersA = writers(ofA);
    Set<String> writersB = writers(ofB);
    assertThat(writersA).hasSizeLessThanOrEqualTo(2); // each tenant's grouped
    assertThat(writersB).hasSizeLessThanOrEqualTo(2);
    assertThat(writersA).doesNotContainAnyElementsOf(writersB);
    for (List<Future<ConversationStore.Begun>> tenantTurns : List.of(ofA, ofB)) {
      String own = (tenantTurns == ofA ? tenantA : tenantB).toString();
      for (Future<ConversationStore.Begun> b : tenantTurns) {
        assertThat(count("SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE "
            + "m.id = '" + b.result().userMessageId() + "' AND m.tenant_id = '" + own + "' AND c.tenant_id = '" + own
            + "'")).isOne();
      }
    }
  }

  /**
   * Were two tenants' rows ever sent in one batch, the second call would not run in the first's scope: begin_turn
   * refuses a transaction scoped to another tenant, so the batch fails whole and nothing is stored.
   */
  @Test
  void aBatchMixingTenantsWouldFailWhole() throws Exception {
    UUID forA = UUID.randomUUID();
    UUID forB = UUID.randomUUID();
    String call = "SELECT * FROM begin_turn($1, $2, false, 'api', NULL, 't', NULL, 'user', 'q', NULL, NULL, NULL, "
        + "true, false, true)";
    Future<?> mixed = db.pool().preparedQuery(call).executeBatch(List.of(Tuple.of(tenantA, forA),
        Tuple.of(tenantB, forB)));
    await(mixed.otherwiseEmpty());
    assertThat(mixed.failed()).isTrue();
    assertThat(mixed.cause().getMessage()).contains("another tenant");
    assertThat(count("SELECT count(*) FROM conversations WHERE id IN ('" + forA + "', '" + forB + "')")).isZero();
  }
}
