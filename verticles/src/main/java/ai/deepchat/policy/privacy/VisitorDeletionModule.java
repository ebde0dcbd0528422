package ai.deepchat.policy.privacy;

import ai.deepchat.gateway.HttpErrors;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.http.HttpModule;
import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.policy.PolicyMessages.AuditEntry;
import ai.deepchat.platform.policy.PolicyMessages.VisitorsRevoked;
import ai.deepchat.policy.audit.AuditLog;
import ai.deepchat.policy.ratelimit.RequestLimits;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Tuple;

import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * {@code DELETE /v1/visitors/{visitorId}} (API key): erases a visitor's conversations and messages in
 * one transaction together with its audit row, the right-to-erasure request of a tenant's end user.
 * Idempotent: deleting again answers the same shape with zero counts.
 */
public final class VisitorDeletionModule implements HttpModule {

  private static final Pattern VISITOR_ID = Pattern.compile("[A-Za-z0-9._:@-]{1,200}");

  private final Database database;
  private final AuditLog audit;
  private final RequestLimits limits;

  public VisitorDeletionModule(Database database, AuditLog audit, RequestLimits limits) {
    this.database = database;
    this.audit = audit;
    this.limits = limits;
  }

  @Override
  public void mount(Router router) {
    router.delete("/v1/visitors/:visitorId")
        .handler(new ApiKeyAuth(database, limits))
        .handler(this::delete);
  }

  private void delete(RoutingContext ctx) {
    String visitorId = ctx.pathParam("visitorId");
    if (visitorId == null || !VISITOR_ID.matcher(visitorId).matches()) {
      HttpErrors.send(ctx, 400, "visitorId must be 1-200 characters of letters, digits and . _ : @ -",
          "invalid_request_error", "invalid_visitor_id");
      return;
    }
    UUID tenant = ctx.get(ApiKeyAuth.TENANT_ID);
    String keyId = ctx.get(ApiKeyAuth.API_KEY_ID);
    String ip = ctx.request().remoteAddress() == null ? null : ctx.request().remoteAddress().hostAddress();
    deleteVisitor(tenant, visitorId, "apikey:" + keyId, ip)
        // the tokens are refused from the commit on (erased_visitors); this closes their open sockets
        .onSuccess(counts -> ctx.vertx().eventBus().publish(Addresses.WIDGET_VISITORS_REVOKED,
            new VisitorsRevoked(tenant.toString(), visitorId)))
        .onSuccess(counts -> ctx.json(new JsonObject()
            .put("object", "visitor.deletion")
            .put("visitor_id", visitorId)
            .put("deleted", true)
            .put("conversations_deleted", counts[0])
            .put("messages_deleted", counts[1])))
        .onFailure(err -> ctx.fail(503, err));
  }

  /**
   * Deletes a visitor's data, ends its widget tokens (a digest of the id goes to erased_visitors) and
   * audits it, in one transaction; returns {conversations, messages}.
   */
  public Future<long[]> deleteVisitor(UUID tenant, String visitorId, String actor, String ip) {
    return database.inTenant(tenant, conn -> conn.preparedQuery("INSERT INTO erased_visitors (tenant_id, visitor_hash) "
            + "VALUES ($1, sha256(convert_to($2::text, 'UTF8'))) ON CONFLICT DO NOTHING").execute(Tuple.of(tenant, visitorId))
        // shadow pairs hold the visitor's question and both versions' answers, with no foreign key to cascade
        .compose(x -> conn.preparedQuery("DELETE FROM shadow_answers WHERE conversation_id IN "
            + "(SELECT id FROM conversations WHERE visitor_id = $1)").execute(Tuple.of(visitorId)))
        .compose(x -> conn.preparedQuery(
            "DELETE FROM messages WHERE conversation_id IN (SELECT id FROM conversations WHERE visitor_id = $1)")
        .execute(Tuple.of(visitorId)))
        // a WeChat/WeCom visitor's pushes and the answers owed to them (the visitor id is the OpenID/UserID)
        .compose(messages -> conn.preparedQuery("DELETE FROM channel_messages WHERE open_id = $1")
            .execute(Tuple.of(visitorId)).map(messages))
        // and the pictures they sent
        .compose(messages -> conn.preparedQuery("DELETE FROM channel_media WHERE open_id = $1")
            .execute(Tuple.of(visitorId)).map(messages))
        .compose(messages -> conn.preparedQuery("DELETE FROM conversations WHERE visitor_id = $1")
            .execute(Tuple.of(visitorId))
            .map(conversations -> new long[] {conversations.rowCount(), messages.rowCount()}))
        .compose(counts -> audit.append(conn, new AuditEntry(tenant.toString(), actor, "visitor.deleted",
                visitorId, ip, Map.of("conversations", counts[0], "messages", counts[1])))
            .map(receipt -> counts)));
  }
}
