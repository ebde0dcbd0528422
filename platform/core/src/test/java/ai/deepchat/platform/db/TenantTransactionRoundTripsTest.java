package ai.deepchat.platform.db;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link Database#inTenant}'s round trips, counted on the wire (a proxy between a one-connection pool and
 * PostgreSQL): the tenant setting goes with BEGIN, not after its answer; what runs is unchanged (BEGIN, the
 * setting, the work, COMMIT), and a failure still keeps nothing and leaves no tenant on the connection.
 */
class TenantTransactionRoundTripsTest {

  private static final int TRANSACTIONS = 20;
  private static Vertx vertx;
  private static TestDatabase testDb;
  private static PgWireCounter wire;
  private static Database db;
  private static UUID tenant;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    testDb = TestDatabase.fresh(vertx);
    tenant = await(testDb.database().global(c -> c.preparedQuery("INSERT INTO tenants (slug, name) VALUES"
        + " ('round-trips', 'RT') RETURNING id").execute().map(rows -> rows.iterator().next().getUUID(0))));
    wire = new PgWireCounter(vertx, testDb.owner().host(), testDb.owner().port());
    int port = await(wire.start());
    db = testDb.poolVia(vertx, "127.0.0.1", port, 1);
  }

  @AfterAll
  static void stop() throws Exception {
    await(vertx.close());
  }

  private static Future<Long> countConversations(Database on) {
    return on.inTenant(tenant, c -> c.preparedQuery("SELECT count(*) FROM conversations").execute()
        .map(rows -> rows.iterator().next().getLong(0)));
  }

  @Test
  void theTenantSettingTravelsWithBegin() throws Exception {
    await(countConversations(db)); // the connection opened and the statements prepared
    long commands = wire.commands();
    long roundTrips = wire.roundTrips();
    for (int i = 0; i < TRANSACTIONS; i++) {
      await(countConversations(db));
    }
    // BEGIN, set_config, the statement, COMMIT: as before
    assertThat(wire.commands() - commands).isEqualTo(4L * TRANSACTIONS);
    // 4 per transaction before (each sent after the previous one's answer); 3 now. The margin: a setting that
    // happens to reach the proxy after BEGIN's answer on a busy machine counts as a round trip of its own
    assertThat(wire.roundTrips() - roundTrips).isLessThanOrEqualTo(3L * TRANSACTIONS + TRANSACTIONS / 4);
  }

  @Test
  void aFailedTransactionKeepsNothingAndLeavesNoTenantBehind() throws Exception {
    UUID conversation = UUID.randomUUID();
    Future<Object> failed = db.inTenant(tenant, c -> c.preparedQuery("INSERT INTO conversations (id, tenant_id, "
            + "channel) VALUES ($1, app_tenant(), 'api')").execute(Tuple.of(conversation))
        .compose(r -> c.query("SELECT 1/0").execute()).map(r -> null));
    assertThat(await(failed.otherwiseEmpty())).isNull();
    assertThat(failed.failed()).isTrue();
    // the one connection again, with no tenant set: nothing visible, and the setting is empty
    String left = await(db.global(c -> c.query("SELECT coalesce(current_setting('app.tenant_id', true), '') AS t, "
        + "(SELECT count(*) FROM conversations) AS n").execute()
        .map(rows -> rows.iterator().next().getString("t") + "/" + rows.iterator().next().getLong("n"))));
    assertThat(left).isEqualTo("/0");
    long kept = await(db.inTenant(tenant, c -> c.preparedQuery("SELECT count(*) FROM conversations WHERE id = $1")
        .execute(Tuple.of(conversation)).map(rows -> rows.iterator().next().getLong(0))));
    assertThat(kept).isZero();
  }
}
