package ai.deepchat.console.auth;

import ai.deepchat.platform.db.Database;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/**
 * Turns verified token claims into the session of a request by re-reading the account: a removed
 * account, a suspended tenant, or a sign-out after the token was issued ends the session, and role
 * changes apply to the next request.
 */
public final class Sessions {

  private final Database database;

  public Sessions(Database database) {
    this.database = database;
  }

  /** Succeeds with null when the token no longer stands for a usable session. */
  public Future<ConsoleSession> load(SessionTokens.Claims claims) {
    Tuple args = Tuple.of(claims.subject(), claims.issuedAtMillis());
    if (claims.superAdmin()) {
      return database.global(c -> c.preparedQuery("SELECT id, email FROM platform_admin_session($1, "
              + "to_timestamp($2::bigint / 1000.0))").execute(args))
          .map(rows -> {
            if (rows.size() == 0) {
              return null;
            }
            Row r = rows.iterator().next();
            return new ConsoleSession(claims.jti(), r.getUUID("id"), null, null, r.getString("email"),
                r.getString("email"), null, true);
          });
    }
    return database.inTenant(claims.tenantId(), c -> c.preparedQuery(
            "SELECT u.id, u.email, u.display_name, u.role, t.slug FROM users u JOIN tenants t ON t.id = u.tenant_id "
                + "WHERE u.id = $1 AND t.status = 'active' AND u.sessions_valid_after <= to_timestamp($2::bigint / 1000.0)")
        .execute(args))
        .map(rows -> {
          if (rows.size() == 0) {
            return null;
          }
          Row r = rows.iterator().next();
          return new ConsoleSession(claims.jti(), r.getUUID("id"), claims.tenantId(), r.getString("slug"),
              r.getString("email"), r.getString("display_name"),
              ConsoleRole.parse(r.getString("role")).orElse(ConsoleRole.VIEWER), false);
        });
  }
}
