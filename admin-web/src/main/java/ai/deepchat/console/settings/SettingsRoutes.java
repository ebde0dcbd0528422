package ai.deepchat.console.settings;

import ai.deepchat.policy.PolicyServices;
import io.vertx.core.Vertx;
import ai.deepchat.console.audit.ConsoleAudit;
import ai.deepchat.console.auth.ConsoleRole;
import ai.deepchat.console.auth.ConsoleSession;
import ai.deepchat.console.web.ConsoleException;
import ai.deepchat.console.web.ConsoleRouter;
import ai.deepchat.console.web.Forms;
import ai.deepchat.console.web.Rows;
import ai.deepchat.console.web.Views;
import ai.deepchat.platform.db.Database;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.util.Map;

/**
 * The assistant's workspace settings: system prompt, routing thresholds and what happens to a question
 * nothing answers (handoff reply or the model), what moderation does with a
 * sensitive word, the reply to blocked messages, rate limits, message size and how long conversations
 * are kept. Everyone reads them; admins change them.
 */
public final class SettingsRoutes {

  private static final String COLUMNS = "system_prompt, retention_days, faq_threshold, moderation_action, "
      + "blocked_reply, requests_per_minute, visitor_requests_per_minute, api_key_requests_per_minute, "
      + "max_message_chars, knowledge_threshold, citation_threshold, small_talk_threshold, unanswered_action, "
      + "handoff_reply, query_translation";

  /**
   * What query translation cost the tenant's own model, per day over the last 30 (RLS keeps it to the
   * tenant), so an admin weighs the switch below against its calls and tokens.
   */
  private static final String TRANSLATION_USAGE = "SELECT day, calls, failed, "
      + "round(total_ms::numeric / nullif(calls, 0))::bigint AS average_ms, prompt_tokens, completion_tokens, total_ms "
      + "FROM query_translation_usage WHERE day > current_date - 30 ORDER BY day DESC";

  private final Vertx vertx;
  private final Database database;
  private final Views views;
  private final ConsoleAudit audit;

  public SettingsRoutes(Vertx vertx, Database database, Views views, ConsoleAudit audit) {
    this.vertx = vertx;
    this.audit = audit;
    this.database = database;
    this.views = views;
  }

  public void mount(ConsoleRouter routes) {
    routes.get("/settings", ConsoleRole.VIEWER, this::page);
    routes.post("/settings", ConsoleRole.ADMIN, this::save);
  }

  private Future<?> page(RoutingContext ctx, ConsoleSession s) {
    return database.inTenant(s.tenantId(), c -> c.query("SELECT " + COLUMNS + " FROM tenant_settings").execute()
            .compose(settings -> c.query(TRANSLATION_USAGE).execute().map(usage -> Map.of("section", "settings",
                "settings", settings.size() == 0 ? Map.of() : Rows.map(settings.iterator().next()),
                "translationUsage", Rows.maps(usage), "translationTotal", total(usage)))))
        .compose(model -> views.render(ctx, "settings", model));
  }

  /** The 30 days' sums (the average time over all their calls), for the usage table's last row. */
  private static Map<String, Long> total(RowSet<Row> usage) {
    long calls = 0;
    long failed = 0;
    long ms = 0;
    long prompt = 0;
    long completion = 0;
    for (Row r : usage) {
      calls += r.getInteger("calls");
      failed += r.getInteger("failed");
      ms += r.getLong("total_ms");
      prompt += r.getLong("prompt_tokens");
      completion += r.getLong("completion_tokens");
    }
    return Map.of("calls", calls, "failed", failed, "average_ms", calls == 0 ? 0 : Math.round((double) ms / calls),
        "prompt_tokens", prompt, "completion_tokens", completion);
  }

  private static int integer(RoutingContext ctx, String name, int min, int max) {
    try {
      int v = Integer.parseInt(Forms.text(ctx, name, 10, true));
      if (v < min || v > max) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw ConsoleException.badRequest("settings.error.range", name, min, max);
    }
  }

  /** A threshold from 0 to 1 (FAQ, knowledge, citation, small talk). */
  private static float fraction(RoutingContext ctx, String name) {
    return Forms.fraction(ctx, name, true).floatValue();
  }

  private Future<?> save(RoutingContext ctx, ConsoleSession s) {
    String prompt = Forms.text(ctx, "system_prompt", 20_000, false);
    String blockedReply = Forms.text(ctx, "blocked_reply", 1000, true);
    String action = Forms.text(ctx, "moderation_action", 5, true);
    if (!action.equals("block") && !action.equals("mask")) {
      throw ConsoleException.badRequest("error.invalid", "moderation_action");
    }
    float threshold = fraction(ctx, "faq_threshold");
    float knowledge = fraction(ctx, "knowledge_threshold");
    float citation = fraction(ctx, "citation_threshold");
    float smallTalk = fraction(ctx, "small_talk_threshold");
    String unanswered = Forms.text(ctx, "unanswered_action", 7, true);
    if (!unanswered.equals("handoff") && !unanswered.equals("chat")) {
      throw ConsoleException.badRequest("error.invalid", "unanswered_action");
    }
    String handoffReply = Forms.text(ctx, "handoff_reply", 2000, false);
    boolean translate = Forms.checkbox(ctx, "query_translation");
    int retention = integer(ctx, "retention_days", 1, 3650);
    int rpm = integer(ctx, "requests_per_minute", 1, 1_000_000);
    int visitorRpm = integer(ctx, "visitor_requests_per_minute", 1, 1_000_000);
    int keyRpm = integer(ctx, "api_key_requests_per_minute", 1, 1_000_000);
    int maxChars = integer(ctx, "max_message_chars", 1, 100_000);
    JsonObject changed = new JsonObject().put("retention_days", retention).put("faq_threshold", threshold)
        .put("moderation_action", action).put("requests_per_minute", rpm)
        .put("visitor_requests_per_minute", visitorRpm).put("api_key_requests_per_minute", keyRpm)
        .put("max_message_chars", maxChars).put("system_prompt_chars", prompt.length())
        .put("knowledge_threshold", knowledge).put("citation_threshold", citation)
        .put("small_talk_threshold", smallTalk).put("unanswered_action", unanswered)
        .put("query_translation", translate);
    float t = threshold;
    return database.inTenant(s.tenantId(), c -> c.preparedQuery("INSERT INTO tenant_settings (tenant_id, "
                + COLUMNS + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) "
                + "ON CONFLICT (tenant_id) DO UPDATE SET "
                + "system_prompt = $2, retention_days = $3, faq_threshold = $4, moderation_action = $5, "
                + "blocked_reply = $6, requests_per_minute = $7, visitor_requests_per_minute = $8, "
                + "api_key_requests_per_minute = $9, max_message_chars = $10, knowledge_threshold = $11, "
                + "citation_threshold = $12, small_talk_threshold = $13, unanswered_action = $14, "
                + "handoff_reply = $15, query_translation = $16, updated_at = now()")
            .execute(Tuple.tuple().addUUID(s.tenantId()).addString(prompt).addInteger(retention).addFloat(t)
                .addString(action).addString(blockedReply).addInteger(rpm).addInteger(visitorRpm).addInteger(keyRpm)
                .addInteger(maxChars).addFloat(knowledge).addFloat(citation).addFloat(smallTalk)
                .addString(unanswered).addString(handoffReply).addBoolean(translate))
            .compose(x -> audit.record(c, s, Forms.ip(ctx), "settings.update", "tenant_settings", changed)))
        // moderation action, reply, limits and routing are cached per node: every node drops this tenant's copy
        .onSuccess(x -> PolicyServices.publishChanged(vertx, s.tenantId()))
        .compose(x -> ConsoleRouter.done(ctx, "/settings", "saved"));
  }
}
