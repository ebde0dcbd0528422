package ai.deepchat.policy;

import ai.deepchat.platform.db.Database;
import io.vertx.sqlclient.Tuple;

import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;

/** Shared test helpers: tenants with settings, and waiting for futures on the test thread. */
public final class PolicyTestSupport {

  private PolicyTestSupport() {
  }

  /** A tenant with its settings row (schema defaults). */
  public static UUID createTenant(Database db, String slug) throws Exception {
    UUID id = await(db.global(c -> c.preparedQuery("INSERT INTO tenants (slug, name) VALUES ($1, $1) RETURNING id")
        .execute(Tuple.of(slug)).map(rows -> rows.iterator().next().getUUID("id"))));
    await(db.inTenant(id, c -> c.preparedQuery("INSERT INTO tenant_settings (tenant_id) VALUES ($1)")
        .execute(Tuple.of(id))));
    return id;
  }

  public static void exec(Database db, UUID tenant, String sql, Object... params) throws Exception {
    await(db.inTenant(tenant, c -> c.preparedQuery(sql).execute(Tuple.from(params))));
  }
}
