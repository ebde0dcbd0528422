package ai.deepchat.chat.conversation;

import ai.deepchat.chat.dispatch.ModelChoice;
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
import java.util.List;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A turn's begin in a transaction on the wire (a proxy between a one-connection pool and PostgreSQL; no
 * listener, so no cached settings): the conversation's statement, the history read and the question's insert
 * are one statement (V56's begin_turn), the outcomes as before (the conversation's failure reported, nothing of
 * a failed turn kept). The begin without a transaction: {@link BeginStatementTest}.
 */
class BeginRoundTripsTest {

  private static final int TURNS = 8;
  private static Vertx vertx;
  private static TestDatabase testDb;
  private static PgWireCounter wire;
  private static Database viaProxy;
  private static WorkerExecutor tokenizer;
  private static UUID tenant;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    testDb = TestDatabase.fresh(vertx);
    tenant = await(testDb.database().global(c -> c.preparedQuery("INSERT INTO tenants (slug, name) VALUES "
        + "('begin-rt', 'B') RETURNING id").execute().map(rows -> rows.iterator().next().getUUID(0))));
    wire = new PgWireCounter(vertx, testDb.owner().host(), testDb.owner().port());
    int port = await(wire.start());
    viaProxy = testDb.poolVia(vertx, "127.0.0.1", port, 1);
    tokenizer = vertx.createSharedWorkerExecutor("begin-rt-tokenizer", 1);
  }

  @AfterAll
  static void stop() throws Exception {
    await(vertx.close());
  }

  private static ConversationStore store() {
    return new ConversationStore(vertx, tokenizer, viaProxy, String::length);
  }

  private static Future<ConversationStore.Begun> begin(ConversationStore store, String visitor, UUID conversation,
                                                       boolean continuing, String question) {
    TurnRequest req = new TurnRequest(UUID.randomUUID().toString(), tenant.toString(), ChatMessages.CHANNEL_WIDGET,
        continuing ? conversation.toString() : null, visitor, null, List.of(new ChatMessage("user", question)), null,
        SamplingParams.greedy(16), "events", false, null);
    ModelChoice model = new ModelChoice(null, "m", null, null, 4096, true, null, false);
    return store.begin(tenant, req, conversation, c -> Future.succeededFuture(model), (m, extra) -> null);
  }

  private static Future<Void> finish(ConversationStore store, ConversationStore.Begun b) {
    return store.finish(tenant, b.conversationId(), b.assistantMessageId(), "complete", "answer", null, List.of(),
        "chat", 0, new Usage(1, 1), null);
  }

  private static int messages() throws Exception {
    try (var c = testDb.ownerJdbc(); ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM messages")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  @Test
  void aContinuingTurnsStatementsShareOneRoundTrip() throws Exception {
    ConversationStore store = store();
    UUID conversation = UUID.randomUUID();
    await(begin(store, "v1", conversation, false, "first").compose(b -> finish(store, b)));
    await(begin(store, "v1", conversation, true, "warm-up").compose(b -> finish(store, b))); // all prepared
    long commands = 0;
    long roundTrips = 0;
    for (int i = 0; i < TURNS; i++) {
      long c0 = wire.commands();
      long r0 = wire.roundTrips();
      ConversationStore.Begun b = await(begin(store, "v1", conversation, true, "question " + i));
      commands += wire.commands() - c0;
      roundTrips += wire.roundTrips() - r0;
      assertThat(b.history()).isNotEmpty();
      await(finish(store, b));
    }
    // BEGIN, set_config, the tenant's settings (no listener here, so no cached copy: the turn begins in a
    // transaction), begin_turn (the conversation's update, the history, the question and answer rows), COMMIT;
    // 7 before V56 (the three writes apart)
    assertThat(commands).isEqualTo(5L * TURNS);
    // 7 per turn before (6 with the setting sent behind BEGIN, 4 with the three writes in one flight); 4 now:
    // BEGIN and setting, the settings, begin_turn, COMMIT. The margin: a statement that reaches the proxy after
    // the answer to the one before it
    assertThat(roundTrips).isLessThanOrEqualTo(4L * TURNS + TURNS / 2);
  }

  @Test
  void anotherVisitorsConversationIsNotFoundAndNothingIsKept() throws Exception {
    ConversationStore store = store();
    UUID conversation = UUID.randomUUID();
    ConversationStore.Begun first = await(begin(store, "owner", conversation, false, "mine"));
    await(finish(store, first));
    int before = messages();
    Future<ConversationStore.Begun> other = begin(store, "intruder", conversation, true, "let me in");
    await(other.otherwiseEmpty());
    assertThat(other.failed()).isTrue();
    // reported as when each statement waited: the conversation's update found nothing, not the insert behind it
    assertThat(other.cause().getMessage()).isEqualTo("No such conversation.");
    assertThat(messages()).isEqualTo(before);
    // and the connection is clean for the next turn
    ConversationStore.Begun next = await(begin(store, "owner", conversation, true, "again"));
    assertThat(next.history()).extracting(ChatMessage::content).containsExactly("mine", "answer");
  }
}
