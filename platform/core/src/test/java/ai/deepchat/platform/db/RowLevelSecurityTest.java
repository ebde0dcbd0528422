package ai.deepchat.platform.db;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.ResultSet;
import java.util.List;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Row-level security as the application role sees it: at the SQL level, behind every app check. */
@ExtendWith(VertxExtension.class)
class RowLevelSecurityTest {

  static TestDatabase testDb;
  static Database db;
  static UUID tenantA;
  static UUID tenantB;

  @BeforeAll
  static void setUp(Vertx vertx) throws Exception {
    testDb = TestDatabase.fresh(vertx);
    db = testDb.database();
    tenantA = await(createTenant("alpha"));
    tenantB = await(createTenant("beta"));
    await(db.inTenant(tenantA, c -> c.preparedQuery(
        "INSERT INTO conversations (tenant_id, title) VALUES ($1, 'a secret')").execute(Tuple.of(tenantA))));
    await(db.inTenant(tenantB, c -> c.preparedQuery(
        "INSERT INTO conversations (tenant_id, title) VALUES ($1, 'b secret')").execute(Tuple.of(tenantB))));
  }

  static Future<UUID> createTenant(String slug) {
    return db.global(c -> c.preparedQuery("INSERT INTO tenants (slug, name) VALUES ($1, $1) RETURNING id")
        .execute(Tuple.of(slug)).map(rows -> rows.iterator().next().getUUID("id")));
  }

  static List<String> titles(UUID tenant, String where) throws Exception {
    return await(db.inTenant(tenant, c -> c.query("SELECT title FROM conversations " + where).execute()
        .map(rows -> { List<String> out = new java.util.ArrayList<>(); for (Row r : rows) out.add(r.getString(0)); return out; })));
  }

  @Test
  void aTenantSeesOnlyItsOwnRowsEvenWithoutAWhereClause() throws Exception {
    assertThat(titles(tenantA, "")).containsExactly("a secret");
    assertThat(titles(tenantB, "")).containsExactly("b secret");
  }

  @Test
  void crossTenantReadByIdReturnsNothing() throws Exception {
    assertThat(titles(tenantA, "WHERE tenant_id = '" + tenantB + "'")).isEmpty();
  }

  @Test
  void noTenantSetSeesNothing() throws Exception {
    Long count = await(db.global(c -> c.query("SELECT count(*) FROM conversations").execute()
        .map(rows -> rows.iterator().next().getLong(0))));
    assertThat(count).isZero();
    // but the owner sees both rows: the data is there, the policy hides it
    try (var c = testDb.ownerJdbc(); ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM conversations")) {
      rs.next();
      assertThat(rs.getLong(1)).isEqualTo(2);
    }
  }

  @Test
  void writingIntoAnotherTenantIsRejected() {
    assertThatThrownBy(() -> await(db.inTenant(tenantA, c -> c.preparedQuery(
        "INSERT INTO conversations (tenant_id, title) VALUES ($1, 'planted')").execute(Tuple.of(tenantB)))))
        .hasMessageContaining("row-level security");
  }

  @Test
  void updatesAndDeletesCannotReachAnotherTenant() throws Exception {
    Integer updated = await(db.inTenant(tenantA, c -> c.query(
        "UPDATE conversations SET title = 'hijacked' WHERE title = 'b secret'").execute().map(r -> r.rowCount())));
    Integer deleted = await(db.inTenant(tenantA, c -> c.query(
        "DELETE FROM conversations WHERE title = 'b secret'").execute().map(r -> r.rowCount())));
    assertThat(updated).isZero();
    assertThat(deleted).isZero();
    assertThat(titles(tenantB, "")).containsExactly("b secret");
  }

  @Test
  void tenantSettingDoesNotLeakToTheNextTransactionOnTheSameConnection() throws Exception {
    // One connection, two transactions: the tenant set in the first is gone in the second.
    Long count = await(db.pool().withConnection(conn -> conn.begin()
        .compose(tx -> conn.preparedQuery("SELECT set_config('app.tenant_id', $1, true)")
            .execute(Tuple.of(tenantA.toString())).compose(x -> tx.commit()))
        .compose(x -> conn.query("SELECT count(*) FROM conversations").execute())
        .map(rows -> rows.iterator().next().getLong(0))));
    assertThat(count).isZero();
  }

  @Test
  void theAppRoleCannotDisableSecurityOrRewriteTheAuditLog() {
    assertThatThrownBy(() -> await(db.global(c -> c.query(
        "ALTER TABLE conversations DISABLE ROW LEVEL SECURITY").execute())))
        .hasMessageContaining("must be owner");
    assertThatThrownBy(() -> await(db.inTenant(tenantA, c -> c.query(
        "UPDATE audit_log SET action = 'x'").execute())))
        .hasMessageContaining("permission denied");
  }

  @Test
  void everyTenantOwnedTableHasForcedRowLevelSecurity() throws Exception {
    try (var c = testDb.ownerJdbc(); ResultSet rs = c.createStatement().executeQuery(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
            + "JOIN information_schema.columns col ON col.table_name = c.relname AND col.column_name = 'tenant_id' "
            + "WHERE c.relkind = 'r' AND col.table_schema = 'public'")) {
      int tables = 0;
      while (rs.next()) {
        tables++;
        assertThat(rs.getBoolean(2)).as("RLS on " + rs.getString(1)).isTrue();
        assertThat(rs.getBoolean(3)).as("FORCE RLS on " + rs.getString(1)).isTrue();
      }
      assertThat(tables).isGreaterThanOrEqualTo(11);
    }
  }
}
