package ai.deepchat.console.faq;

import ai.deepchat.chat.intent.BoundedRegex;
import ai.deepchat.console.audit.ConsoleAudit;
import ai.deepchat.console.auth.ConsoleRole;
import ai.deepchat.console.auth.ConsoleSession;
import ai.deepchat.console.web.ConsoleException;
import ai.deepchat.console.web.ConsoleRouter;
import ai.deepchat.console.web.Forms;
import ai.deepchat.console.web.Rows;
import ai.deepchat.console.web.Views;
import ai.deepchat.platform.db.Database;
import ai.deepchat.policy.PolicyServices;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Tuple;

import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Routing rules: a keyword or regular expression that sends a question straight to FAQ answers, the
 * knowledge base or the model, before any similarity matching. Higher priority is tried first.
 */
public final class IntentRuleRoutes {

  static final int MAX_PATTERN = 500;

  private final Database database;
  private final Views views;
  private final ConsoleAudit audit;

  public IntentRuleRoutes(Database database, Views views, ConsoleAudit audit) {
    this.audit = audit;
    this.database = database;
    this.views = views;
  }

  public void mount(ConsoleRouter routes) {
    routes.get("/rules", ConsoleRole.VIEWER, this::list);
    routes.post("/rules", ConsoleRole.EDITOR, this::create);
    routes.post("/rules/:id/delete", ConsoleRole.EDITOR, this::delete);
  }

  private Future<?> list(RoutingContext ctx, ConsoleSession s) {
    return database.inTenant(s.tenantId(), c -> c.query("SELECT id, intent, kind, pattern, priority, created_at "
            + "FROM intent_rules ORDER BY priority DESC, created_at").execute())
        .compose(rows -> views.render(ctx, "rules", Map.of("section", "rules", "rules", Rows.maps(rows))));
  }

  private Future<?> create(RoutingContext ctx, ConsoleSession s) {
    String intent = Forms.text(ctx, "intent", 20, true);
    String kind = Forms.text(ctx, "kind", 10, true);
    String pattern = Forms.text(ctx, "pattern", MAX_PATTERN, true);
    if (!List.of("faq", "knowledge", "chat", "handoff").contains(intent) || !List.of("keyword", "regex").contains(kind)) {
      throw ConsoleException.badRequest("error.invalid", "intent/kind");
    }
    if (kind.equals("regex")) {
      // refused now rather than skipped on every long message later (see BoundedRegex)
      BoundedRegex.problem(pattern).ifPresent(problem -> {
        throw problem.kind() == BoundedRegex.Problem.Kind.SYNTAX
            ? ConsoleException.badRequest("rules.error.regex", problem.detail())
            : ConsoleException.badRequest("rules.error.regexCost");
      });
    }
    int priority;
    try {
      priority = Integer.parseInt(Forms.text(ctx, "priority", 6, false).isEmpty() ? "0"
          : Forms.text(ctx, "priority", 6, false));
    } catch (NumberFormatException e) {
      throw ConsoleException.badRequest("error.invalid", "priority");
    }
    return database.inTenant(s.tenantId(), c -> c.preparedQuery("INSERT INTO intent_rules (tenant_id, intent, kind, "
            + "pattern, priority) VALUES ($1, $2, $3, $4, $5) RETURNING id")
        .execute(Tuple.of(s.tenantId(), intent, kind, pattern, priority))
        .compose(rows -> audit.record(c, s, Forms.ip(ctx), "rule.create", "rule:" + rows.iterator().next()
            .getUUID("id"), new JsonObject().put("intent", intent).put("kind", kind).put("pattern", pattern))))
        // every node's router drops this tenant's cached rules
        .onSuccess(x -> PolicyServices.publishChanged(ctx.vertx(), s.tenantId()))
        .compose(x -> ConsoleRouter.done(ctx, "/rules", "saved"));
  }

  private Future<?> delete(RoutingContext ctx, ConsoleSession s) {
    UUID id = Forms.id(ctx, "id");
    return database.inTenant(s.tenantId(), c -> c.preparedQuery("DELETE FROM intent_rules WHERE id = $1 RETURNING pattern")
        .execute(Tuple.of(id))
        .compose(rows -> {
          if (rows.size() == 0) {
            throw ConsoleException.notFound();
          }
          return audit.record(c, s, Forms.ip(ctx), "rule.delete", "rule:" + id,
              new JsonObject().put("pattern", rows.iterator().next().getString("pattern")));
        }))
        // every node's router drops this tenant's cached rules
        .onSuccess(x -> PolicyServices.publishChanged(ctx.vertx(), s.tenantId()))
        .compose(x -> ConsoleRouter.done(ctx, "/rules", "deleted"));
  }
}
