package ai.deepchat.chat.api;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.security.ApiKeyLookup;
import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;

import java.util.UUID;

/**
 * {@code Authorization: Bearer dck_...} for the chat API, as a future of the caller; failures are
 * {@link HttpProblem}s (401, or 403 for a suspended tenant). The lookup is {@link ApiKeyLookup}.
 */
public final class ApiKeyAuth {

  /** The caller: its tenant and key. */
  public record Caller(UUID tenantId, UUID keyId) {
  }

  private final Database db;

  public ApiKeyAuth(Database db) {
    this.db = db;
  }

  public Future<Caller> authenticate(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Future.failedFuture(HttpProblem.unauthorized(
          "Missing API key: send 'Authorization: Bearer dck_...'."));
    }
    return ApiKeyLookup.find(db, header).compose(found -> {
      if (found.isEmpty()) {
        return Future.failedFuture(HttpProblem.unauthorized("Invalid API key."));
      }
      if (!found.get().tenantActive()) {
        return Future.failedFuture(HttpProblem.forbidden("tenant_suspended", "This workspace is suspended."));
      }
      return Future.succeededFuture(new Caller(found.get().tenantId(), found.get().keyId()));
    });
  }
}
