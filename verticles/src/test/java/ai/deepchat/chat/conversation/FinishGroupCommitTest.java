package ai.deepchat.chat.conversation;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Turns finishing together on one event loop are committed together (group commit): fewer transactions
 * than turns, every answer stored before its caller hears of it, and a row that cannot be stored fails
 * only its own turn.
 */
class FinishGroupCommitTest {

  private static Vertx vertx;
  private static TestDatabase testDb;
  private static UUID tenant;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    testDb = TestDatabase.fresh(vertx);
    tenant = await(testDb.database().global(c -> c.preparedQuery("INSERT INTO tenants (slug, name) VALUES"
        + " ('finish-co', 'Finish') RETURNING id").execute().map(rows -> rows.iterator().next().getUUID(0))));
  }

  @AfterAll
  static void stop() throws Exception {
    await(vertx.close());
  }

  /** A stored conversation with a question and its answer row in status 'streaming': {conversation, answer}. */
  private static UUID[] streamingTurn(Database db) throws Exception {
    UUID conversation = UUID.randomUUID();
    UUID answer = await(db.inTenant(tenant, c -> c.preparedQuery("INSERT INTO conversations (id, tenant_id, channel)"
            + " VALUES ($1, app_tenant(), 'api')").execute(Tuple.of(conversation))
        .compose(r -> c.preparedQuery("INSERT INTO messages (tenant_id, conversation_id, role, content) VALUES"
            + " (app_tenant(), $1, 'user', 'q') RETURNING id").execute(Tuple.of(conversation)))
        .compose(r -> c.preparedQuery("INSERT INTO messages (tenant_id, conversation_id, role, content, status, reply_to)"
            + " VALUES (app_tenant(), $1, 'assistant', '', 'streaming', $2) RETURNING id")
            .execute(Tuple.of(conversation, r.iterator().next().getUUID(0))))
        .map(r -> r.iterator().next().getUUID(0))));
    return new UUID[] {conversation, answer};
  }

  /** Finishes every turn from one task of one event loop, as a busy pipeline instance does; each outcome. */
  private static List<Future<Void>> finishAll(List<UUID[]> turns, int badIndex) throws Exception {
    Database db = testDb.database();
    Context ctx = vertx.getOrCreateContext();
    Promise<List<Future<Void>>> started = Promise.promise();
    ctx.runOnContext(v -> {
      ConversationStore store = new ConversationStore(vertx, null, db, null);
      List<Future<Void>> done = new ArrayList<>();
      for (int i = 0; i < turns.size(); i++) {
        // a status the table's check refuses: this row cannot be stored
        String status = i == badIndex ? "bogus" : "complete";
        done.add(store.finish(tenant, turns.get(i)[0], turns.get(i)[1], status, "answer " + i, null, List.of(),
            "faq", 1, new Usage(0, 0), null));
      }
      started.complete(done);
    });
    List<Future<Void>> done = await(started.future());
    await(Future.join(done).otherwiseEmpty());
    return done;
  }

  /**
   * As the pipeline verticle calls it: each finish from the handler of its own event-bus message, on the store's
   * loop (Vert.x runs each message's handler on a duplicate of the consumer's context, not on the context itself).
   */
  private static List<Future<Void>> finishAllFromBusHandlers(List<UUID[]> turns) throws Exception {
    Database db = testDb.database();
    Context ctx = vertx.getOrCreateContext();
    String address = "finish-test-" + UUID.randomUUID();
    List<Future<Void>> done = new ArrayList<>();
    List<Promise<Void>> outcomes = new ArrayList<>();
    for (int i = 0; i < turns.size(); i++) {
      Promise<Void> p = Promise.promise();
      outcomes.add(p);
      done.add(p.future());
    }
    Promise<Void> registered = Promise.promise();
    ctx.runOnContext(v -> {
      ConversationStore store = new ConversationStore(vertx, null, db, null);
      vertx.eventBus().<Integer>localConsumer(address, msg -> {
        int i = msg.body();
        store.finish(tenant, turns.get(i)[0], turns.get(i)[1], "complete", "answer " + i, null, List.of(), "faq", 1,
            new Usage(0, 0), null).onComplete(outcomes.get(i));
      }).completion().onComplete(registered);
    });
    await(registered.future());
    ctx.runOnContext(v -> {
      for (int i = 0; i < turns.size(); i++) {
        vertx.eventBus().send(address, i);
      }
    });
    await(Future.join(done).otherwiseEmpty());
    return done;
  }

  private static int count(String sql) throws Exception {
    try (var c = testDb.ownerJdbc(); ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static String ids(List<UUID[]> turns) {
    return String.join(",", turns.stream().map(t -> "'" + t[1] + "'").toList());
  }

  @Test
  void turnsFinishingTogetherShareTransactionsAndAreStoredBeforeTheyComplete() throws Exception {
    List<UUID[]> turns = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      turns.add(streamingTurn(testDb.database()));
    }
    List<Future<Void>> done = finishAll(turns, -1);
    assertThat(done).allMatch(Future::succeeded);
    assertThat(count("SELECT count(*) FROM messages WHERE status = 'complete' AND content LIKE 'answer %' AND id IN ("
        + ids(turns) + ")")).isEqualTo(20);
    // xmin: the transaction that wrote each row's current version. One each without group commit
    assertThat(count("SELECT count(DISTINCT xmin::text) FROM messages WHERE id IN (" + ids(turns) + ")"))
        .isLessThanOrEqualTo(2);
  }

  /** Before: every finish its own transaction (20), as calls from a message handler never grouped. */
  @Test
  void turnsFinishingFromTheirBusHandlersShareTransactions() throws Exception {
    List<UUID[]> turns = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      turns.add(streamingTurn(testDb.database()));
    }
    List<Future<Void>> done = finishAllFromBusHandlers(turns);
    assertThat(done).allMatch(Future::succeeded);
    assertThat(count("SELECT count(*) FROM messages WHERE status = 'complete' AND id IN (" + ids(turns) + ")"))
        .isEqualTo(20);
    assertThat(count("SELECT count(DISTINCT xmin::text) FROM messages WHERE id IN (" + ids(turns) + ")"))
        .isLessThanOrEqualTo(2);
  }

  @Test
  void aRowThatCannotBeStoredFailsOnlyItsOwnTurn() throws Exception {
    List<UUID[]> turns = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      turns.add(streamingTurn(testDb.database()));
    }
    List<Future<Void>> done = finishAll(turns, 3);
    for (int i = 0; i < turns.size(); i++) {
      assertThat(done.get(i).succeeded()).as("turn %d", i).isEqualTo(i != 3);
    }
    assertThat(count("SELECT count(*) FROM messages WHERE status = 'complete' AND id IN (" + ids(turns) + ")"))
        .isEqualTo(5);
    assertThat(count("SELECT count(*) FROM messages WHERE status = 'streaming' AND id = '" + turns.get(3)[1] + "'"))
        .isEqualTo(1);
  }
}
