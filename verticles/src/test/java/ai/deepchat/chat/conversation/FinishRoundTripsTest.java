package ai.deepchat.chat.conversation;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.PgWireCounter;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
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
 * A turn's finish on the wire (a proxy between a one-connection pool and PostgreSQL): one statement in one
 * round trip (V55's finish_answer, its own transaction), not BEGIN, tenant setting, finish and COMMIT; still
 * confined to its tenant by row-level security, and leaving no tenant on the pooled connection.
 */
class FinishRoundTripsTest {

  private static Vertx vertx;
  private static TestDatabase testDb;
  private static PgWireCounter wire;
  private static Database viaProxy;
  private static UUID tenantA;
  private static UUID tenantB;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    testDb = TestDatabase.fresh(vertx);
    tenantA = await(testDb.tenant("finish-a"));
    tenantB = await(testDb.tenant("finish-b"));
    wire = new PgWireCounter(vertx, testDb.owner().host(), testDb.owner().port());
    int port = await(wire.start());
    viaProxy = testDb.poolVia(vertx, "127.0.0.1", port, 1);
  }

  @AfterAll
  static void stop() throws Exception {
    await(vertx.close());
  }


  /** A stored conversation with a question and its answer row in status 'streaming': {conversation, answer}. */
  private static UUID[] streamingTurn(UUID tenant) throws Exception {
    UUID conversation = UUID.randomUUID();
    UUID answer = await(testDb.database().inTenant(tenant, c -> c.preparedQuery("INSERT INTO conversations (id, "
            + "tenant_id, channel) VALUES ($1, app_tenant(), 'api')").execute(Tuple.of(conversation))
        .compose(r -> c.preparedQuery("INSERT INTO messages (tenant_id, conversation_id, role, content) VALUES"
            + " (app_tenant(), $1, 'user', 'q') RETURNING id").execute(Tuple.of(conversation)))
        .compose(r -> c.preparedQuery("INSERT INTO messages (tenant_id, conversation_id, role, content, status, "
            + "reply_to) VALUES (app_tenant(), $1, 'assistant', '', 'streaming', $2) RETURNING id")
            .execute(Tuple.of(conversation, r.iterator().next().getUUID(0))))
        .map(r -> r.iterator().next().getUUID(0))));
    return new UUID[] {conversation, answer};
  }

  private static Future<Void> finish(ConversationStore store, UUID tenant, UUID[] turn, String content) {
    return store.finish(tenant, turn[0], turn[1], "complete", content, null, List.of(), "chat", 0.5,
        new Usage(3, 4), null);
  }

  private static String stored(UUID answer) throws Exception {
    try (var c = testDb.ownerJdbc(); ResultSet rs = c.createStatement().executeQuery(
        "SELECT status || '/' || content FROM messages WHERE id = '" + answer + "'")) {
      rs.next();
      return rs.getString(1);
    }
  }

  /** What the one pooled connection holds now, with no tenant set: its setting, and the messages it sees. */
  private static String leftOnTheConnection() throws Exception {
    return await(viaProxy.pool().query("SELECT coalesce(current_setting('app.tenant_id', true), '') || '/' || "
        + "(SELECT count(*) FROM messages)").execute().map(rows -> rows.iterator().next().getString(0)));
  }

  @Test
  void aFinishIsOneStatementInOneRoundTrip() throws Exception {
    ConversationStore store = new ConversationStore(vertx, null, viaProxy, null);
    await(finish(store, tenantA, streamingTurn(tenantA), "warm-up")); // the connection opened, the statement prepared
    UUID[] turn = streamingTurn(tenantA);
    long commands = wire.commands();
    long roundTrips = wire.roundTrips();
    await(finish(store, tenantA, turn, "the answer"));
    // before: BEGIN, set_config, the finish, COMMIT (4 commands, 3-4 round trips)
    assertThat(wire.commands() - commands).isEqualTo(1);
    assertThat(wire.roundTrips() - roundTrips).isEqualTo(1);
    assertThat(stored(turn[1])).isEqualTo("complete/the answer");
    assertThat(leftOnTheConnection()).isEqualTo("/0");
  }

  @Test
  void aFinishReachesOnlyItsOwnTenantsRows() throws Exception {
    ConversationStore store = new ConversationStore(vertx, null, viaProxy, null);
    UUID[] ofB = streamingTurn(tenantB);
    await(finish(store, tenantA, ofB, "written by A")); // row-level security: nothing of B's to update
    assertThat(stored(ofB[1])).isEqualTo("streaming/");
    assertThat(leftOnTheConnection()).isEqualTo("/0");
    await(finish(store, tenantB, ofB, "written by B"));
    assertThat(stored(ofB[1])).isEqualTo("complete/written by B");
    assertThat(leftOnTheConnection()).isEqualTo("/0");
  }

  /** RELIABILITY scenario 21 for finishes: two tenants' batches interleaved on the one connection. */
  @Test
  void interleavedBatchesOfTwoTenantsEachWriteOnlyTheirOwnRows() throws Exception {
    List<UUID[]> turns = new java.util.ArrayList<>(); // even: A's, odd: B's; each finished by its tenant
    List<UUID[]> victims = new java.util.ArrayList<>(); // even: A's, odd: B's; finished only by the other tenant
    for (int i = 0; i < 40; i++) {
      turns.add(streamingTurn(i % 2 == 0 ? tenantA : tenantB));
      victims.add(streamingTurn(i % 2 == 0 ? tenantA : tenantB));
    }
    long commands = wire.commands();
    io.vertx.core.Context ctx = vertx.getOrCreateContext();
    io.vertx.core.Promise<List<Future<Void>>> started = io.vertx.core.Promise.promise();
    ctx.runOnContext(v -> { // one event loop, as the pipeline: batches form per tenant and alternate
      ConversationStore store = new ConversationStore(vertx, null, viaProxy, null);
      List<Future<Void>> done = new java.util.ArrayList<>();
      for (int i = 0; i < turns.size(); i++) {
        UUID own = i % 2 == 0 ? tenantA : tenantB;
        UUID other = i % 2 == 0 ? tenantB : tenantA;
        done.add(finish(store, other, victims.get(i), "stolen " + i));
        done.add(finish(store, own, turns.get(i), "answer " + i));
      }
      started.complete(done);
    });
    List<Future<Void>> done = await(started.future());
    await(Future.join(done).otherwiseEmpty());
    assertThat(done).allMatch(Future::succeeded); // row-level security: another tenant's row is no row
    assertThat(wire.commands() - commands).as("batches formed").isLessThan(done.size());
    for (int i = 0; i < turns.size(); i++) {
      assertThat(stored(turns.get(i)[1])).as("turn %d", i).isEqualTo("complete/answer " + i);
      assertThat(stored(victims.get(i)[1])).as("victim %d", i).isEqualTo("streaming/");
    }
    assertThat(leftOnTheConnection()).isEqualTo("/0");
  }

  @Test
  void theFunctionDoesNotSwitchATransactionToAnotherTenant() throws Exception {
    UUID[] ofB = streamingTurn(tenantB);
    Future<Object> switched = viaProxy.inTenant(tenantA, c -> c.preparedQuery("SELECT finish_answer($1, $2, "
        + "'complete', 'x', '', '[]', 'chat', 0, 0, 0, NULL, NULL, '[]', NULL, NULL, $3, NULL)")
        .execute(Tuple.of(tenantB, ofB[1], ofB[0])).map(r -> null));
    await(switched.otherwiseEmpty());
    assertThat(switched.failed()).isTrue();
    assertThat(switched.cause().getMessage()).contains("another tenant");
    assertThat(stored(ofB[1])).isEqualTo("streaming/");
  }
}
