package ai.deepchat.platform.db;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.ResultSet;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What deepchat_app may not do (issue #14 item 6): read or change platform admins except one account
 * at a time through the sign-in functions, change tenants, or create anything in schema public or
 * any temporary table.
 */
@ExtendWith(VertxExtension.class)
class AppRolePrivilegesTest {

  static TestDatabase testDb;
  static Database db;

  @BeforeAll
  static void setUp(Vertx vertx) {
    testDb = TestDatabase.fresh(vertx);
    db = testDb.database();
  }

  /** The first value the app gets, or "sqlstate X" when refused. */
  static String asApp(String sql, Object... args) throws Exception {
    return await(db.global(c -> c.preparedQuery(sql).execute(Tuple.from(args))
            .map(rows -> rows.size() == 0 ? "no row" : String.valueOf(rows.iterator().next().getValue(0))))
        .recover(e -> e instanceof PgException pg ? Future.succeededFuture("sqlstate " + pg.getSqlState())
            : Future.failedFuture(e)));
  }

  static long ownerCount(String sql) throws Exception {
    try (Connection c = testDb.ownerJdbc(); ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void platformAdminsAreReachedOnlyOneAccountAtATime() throws Exception {
    assertThat(asApp("SELECT platform_admin_bootstrap_needed()")).isEqualTo("true");
    assertThat(asApp("SELECT platform_admin_bootstrap($1, 'hash-1')", "Root@Platform.test")).isEqualTo("true");
    // once there is an admin, the app cannot add another (an injected statement cannot make itself one)
    assertThat(asApp("SELECT platform_admin_bootstrap($1, 'hash-2')", "evil@example.test")).isEqualTo("false");
    assertThat(asApp("SELECT platform_admin_bootstrap_needed()")).isEqualTo("false");
    assertThat(ownerCount("SELECT count(*) FROM platform_admins")).isEqualTo(1);

    assertThat(asApp("SELECT password_hash FROM platform_admin_credentials($1)", "root@platform.TEST")).isEqualTo("hash-1");
    assertThat(asApp("SELECT password_hash FROM platform_admin_credentials($1)", "%")).isEqualTo("no row");
    String id = asApp("SELECT id FROM platform_admin_credentials($1)", "root@platform.test");
    assertThat(asApp("SELECT email FROM platform_admin_session($1, now())", UUID.fromString(id))).isEqualTo("root@platform.test");

    // the table itself: no read, no write
    assertThat(asApp("SELECT count(*) FROM platform_admins")).isEqualTo("sqlstate 42501");
    assertThat(asApp("UPDATE platform_admins SET password_hash = 'x'")).isEqualTo("sqlstate 42501");
    assertThat(asApp("INSERT INTO platform_admins (email, password_hash) VALUES ('x@y', 'x')")).isEqualTo("sqlstate 42501");
  }

  @Test
  void tenantsAreCreatedAndReadButNeverChangedByTheApp() throws Exception {
    assertThat(asApp("INSERT INTO tenants (slug, name) VALUES ('priv', 'Priv') RETURNING slug")).isEqualTo("priv");
    assertThat(asApp("SELECT name FROM tenants WHERE slug = 'priv'")).isEqualTo("Priv");
    assertThat(asApp("UPDATE tenants SET status = 'active' WHERE slug = 'priv'")).isEqualTo("sqlstate 42501");
    assertThat(asApp("DELETE FROM tenants WHERE slug = 'priv'")).isEqualTo("sqlstate 42501");
  }

  @Test
  void theAppCreatesNothingInSchemaPublic() throws Exception {
    assertThat(asApp("CREATE TABLE planted (i int)")).isEqualTo("sqlstate 42501");
    assertThat(asApp("CREATE FUNCTION planted() RETURNS int LANGUAGE sql AS 'SELECT 1'")).isEqualTo("sqlstate 42501");
    assertThat(asApp("SELECT has_schema_privilege('public', 'CREATE')")).isEqualTo("false");
    // nor a temporary table that would shadow a tenant table on this pooled connection
    assertThat(asApp("CREATE TEMP TABLE conversations (tenant_id uuid, title text)")).isEqualTo("sqlstate 42501");
  }
}
