package ai.deepchat.platform.db;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.ResultSet;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * messages' idempotency keys (V57): unique per tenant as before, looked up through their index, and a row
 * without a key (every answer row, most API questions) writes no entry into it.
 */
class MessageKeyIndexTest {

  private static Vertx vertx;
  private static TestDatabase testDb;
  private static UUID tenantA;
  private static UUID tenantB;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    testDb = TestDatabase.fresh(vertx);
    tenantA = await(testDb.tenant("key-index-a"));
    tenantB = await(testDb.tenant("key-index-b"));
  }

  @AfterAll
  static void stop() throws Exception {
    await(vertx.close());
  }


  /** A conversation of {@code tenant} with {@code rows} messages, each with {@code key} (null: none). */
  private static Future<Object> messages(UUID tenant, int rows, String key) {
    UUID conversation = UUID.randomUUID();
    return testDb.database().inTenant(tenant, c -> c.preparedQuery("INSERT INTO conversations (id, tenant_id, "
            + "channel) VALUES ($1, app_tenant(), 'api')").execute(Tuple.of(conversation))
        .compose(r -> c.preparedQuery("INSERT INTO messages (tenant_id, conversation_id, role, content, "
            + "idempotency_key) SELECT app_tenant(), $1, 'user', 'q' || g, $2 FROM generate_series(1, $3) g")
            .execute(Tuple.of(conversation, key, rows)))
        .map(r -> null));
  }

  private static String owner(String sql) throws Exception {
    try (var c = testDb.ownerJdbc(); ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  /** The bytes of the unique index on (tenant_id, idempotency_key), whatever its name. */
  private static long keyIndexBytes() throws Exception {
    return Long.parseLong(owner("SELECT pg_relation_size(i.indexrelid) FROM pg_index i JOIN pg_class c ON "
        + "c.oid = i.indexrelid WHERE i.indrelid = 'messages'::regclass AND i.indisunique AND "
        + "pg_get_indexdef(i.indexrelid) LIKE '%(tenant_id, idempotency_key)%'"));
  }

  @Test
  void rowsWithoutAKeyWriteNoEntryIntoItsIndex() throws Exception {
    long before = keyIndexBytes();
    await(messages(tenantA, 2000, null));
    // before V57 every row took an entry: 2,000 of them fill several 8 kB pages
    assertThat(keyIndexBytes()).isEqualTo(before);
    await(messages(tenantA, 2000, null).compose(v -> messages(tenantB, 1, "k-grow")));
    assertThat(keyIndexBytes()).isLessThanOrEqualTo(Math.max(before, 2 * 8192));
  }

  @Test
  void aKeyIsUniquePerTenantAndFoundThroughTheIndex() throws Exception {
    await(messages(tenantA, 1, "k-once"));
    Future<Object> again = messages(tenantA, 1, "k-once");
    await(again.otherwiseEmpty());
    assertThat(again.failed()).isTrue();
    assertThat(SqlStates.isUniqueViolation(again.cause())).isTrue();
    await(messages(tenantB, 1, "k-once")); // another tenant's key space
    // as the app's lookups run (a prepared statement, row-level security's tenant), the partial index serves
    // them (the key's equality implies its predicate); with no scan allowed, another index would show otherwise
    String plan = await(testDb.database().inTenant(tenantA, c -> c.query("SET LOCAL enable_seqscan = off").execute()
        .compose(v -> c.preparedQuery("EXPLAIN SELECT id FROM messages WHERE idempotency_key = $1")
            .execute(Tuple.of("k-once")))
        .map(rows -> {
          StringBuilder s = new StringBuilder();
          rows.forEach(r -> s.append(r.getString(0)).append('\n'));
          return s.toString();
        })));
    assertThat(plan).contains("messages_tenant_idempotency_key");
    long found = await(testDb.database().inTenant(tenantA, c -> c.preparedQuery("SELECT count(*) FROM messages "
        + "WHERE idempotency_key = $1").execute(Tuple.of("k-once")).map(rows -> rows.iterator().next().getLong(0))));
    assertThat(found).isEqualTo(1);
  }
}
