package ai.deepchat.console.models;

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
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.math.BigDecimal;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BiFunction;

/** Model versions (create, make stable, retire) and canary rollouts (start, percentage, promote, rollback). */
public final class ModelRoutes {

  private final Database database;
  private final Views views;
  private final ConsoleAudit audit;

  public ModelRoutes(Database database, Views views, ConsoleAudit audit) {
    this.audit = audit;
    this.database = database;
    this.views = views;
  }

  public void mount(ConsoleRouter routes) {
    routes.get("/models", ConsoleRole.VIEWER, this::page);
    routes.post("/models", ConsoleRole.ADMIN, this::create);
    routes.post("/models/:id/stable", ConsoleRole.ADMIN,
        versionAction("model.make_stable", (c, id) -> RolloutService.makeStable(c, id)));
    routes.post("/models/:id/retire", ConsoleRole.ADMIN,
        versionAction("model.retire", (c, id) -> RolloutService.retire(c, id)));
    routes.post("/rollouts", ConsoleRole.ADMIN, this::startCanary);
    routes.post("/rollouts/:id/percentage", ConsoleRole.ADMIN, this::percentage);
    routes.post("/rollouts/:id/promote", ConsoleRole.ADMIN,
        rolloutAction("rollout.promote", (c, id) -> RolloutService.promote(c, id)));
    routes.post("/rollouts/:id/rollback", ConsoleRole.ADMIN,
        rolloutAction("rollout.rollback", (c, id) -> RolloutService.rollback(c, id)));
  }

  private Future<?> page(RoutingContext ctx, ConsoleSession s) {
    return database.inTenant(s.tenantId(), c -> c.query("SELECT id, name, backend, location, state, updated_at "
            + "FROM model_versions ORDER BY CASE state WHEN 'stable' THEN 0 WHEN 'canary' THEN 1 WHEN 'draft' THEN 2 "
            + "ELSE 3 END, name").execute()
        .compose(versions -> c.query("SELECT r.id, r.mode, r.state, r.percentage, r.updated_at, s.name AS stable, "
                + "cand.name AS candidate FROM rollouts r JOIN model_versions s ON s.id = r.stable_version_id "
                + "LEFT JOIN model_versions cand ON cand.id = r.candidate_version_id "
                + "ORDER BY (r.state = 'active') DESC, r.updated_at DESC LIMIT 50").execute()
            .map(rollouts -> {
              Map<String, Object> model = new HashMap<>();
              model.put("section", "models");
              List<Map<String, Object>> v = Rows.maps(versions);
              model.put("versions", v);
              model.put("stables", v.stream().filter(m -> "stable".equals(m.get("state"))).toList());
              model.put("drafts", v.stream().filter(m -> "draft".equals(m.get("state"))).toList());
              List<Map<String, Object>> r = Rows.maps(rollouts);
              r.forEach(m -> m.put("percentage", m.get("percentage") == null ? "0" : m.get("percentage").toString()));
              model.put("rollouts", r);
              model.put("hasActive", r.stream().anyMatch(m -> "active".equals(m.get("state"))));
              return model;
            })))
        .compose(model -> views.render(ctx, "models", model));
  }

  private Future<?> create(RoutingContext ctx, ConsoleSession s) {
    String name = Forms.text(ctx, "name", 100, true);
    String backend = Forms.text(ctx, "backend", 10, true);
    String location = Forms.text(ctx, "location", 500, true);
    String paramsText = Forms.text(ctx, "params", 10_000, false);
    String prompt = Forms.text(ctx, "system_prompt_template", 20_000, false);
    if (!List.of("local", "openai").contains(backend)) {
      throw ConsoleException.badRequest("error.invalid", "backend");
    }
    if ("openai".equals(backend) && !location.startsWith("https://")) {
      throw ConsoleException.badRequest("models.error.location");
    }
    JsonObject params;
    try {
      params = paramsText.isEmpty() ? new JsonObject() : new JsonObject(paramsText);
    } catch (DecodeException | ClassCastException e) {
      throw ConsoleException.badRequest("models.error.params");
    }
    return database.inTenant(s.tenantId(), c -> c.preparedQuery("INSERT INTO model_versions "
            + "(tenant_id, name, backend, location, params, system_prompt_template) VALUES ($1, $2, $3, $4, $5, $6) "
            + "RETURNING id").execute(Tuple.of(s.tenantId(), name, backend, location, params, prompt))
        .compose(rows -> audit.record(c, s, Forms.ip(ctx), "model.create",
            "model:" + rows.iterator().next().getUUID("id"),
            new JsonObject().put("name", name).put("backend", backend).put("location", location))))
        .recover(err -> err instanceof PgException pg && "23505".equals(pg.getSqlState())
            ? Future.failedFuture(ConsoleException.badRequest("error.duplicate", name)) : Future.failedFuture(err))
        .compose(x -> ConsoleRouter.done(ctx, "/models", "saved"));
  }

  private ConsoleRouter.Action versionAction(String action, BiFunction<SqlConnection, UUID, Future<Void>> change) {
    return (ctx, s) -> {
      UUID id = Forms.id(ctx, "id");
      return database.inTenant(s.tenantId(), c -> change.apply(c, id)
              .compose(x -> audit.record(c, s, Forms.ip(ctx), action, "model:" + id, null)))
          .compose(x -> ConsoleRouter.done(ctx, "/models", "saved"));
    };
  }

  private ConsoleRouter.Action rolloutAction(String action, BiFunction<SqlConnection, UUID, Future<Void>> change) {
    return (ctx, s) -> {
      UUID id = Forms.id(ctx, "id");
      return database.inTenant(s.tenantId(), c -> change.apply(c, id)
              .compose(x -> audit.record(c, s, Forms.ip(ctx), action, "rollout:" + id, null)))
          .compose(x -> ConsoleRouter.done(ctx, "/models", "saved"));
    };
  }

  private static BigDecimal percentage(RoutingContext ctx) {
    try {
      BigDecimal p = new BigDecimal(Forms.text(ctx, "percentage", 6, true));
      if (p.signum() < 0 || p.compareTo(BigDecimal.valueOf(100)) > 0) {
        throw new NumberFormatException();
      }
      return p.setScale(2, java.math.RoundingMode.HALF_UP);
    } catch (NumberFormatException e) {
      throw ConsoleException.badRequest("error.invalid", "percentage");
    }
  }

  private static UUID formId(RoutingContext ctx, String name) {
    try {
      return UUID.fromString(Forms.text(ctx, name, 36, true));
    } catch (IllegalArgumentException e) {
      throw ConsoleException.notFound();
    }
  }

  private Future<?> startCanary(RoutingContext ctx, ConsoleSession s) {
    UUID stable = formId(ctx, "stable");
    UUID candidate = formId(ctx, "candidate");
    BigDecimal pct = percentage(ctx);
    return database.inTenant(s.tenantId(), c -> RolloutService.startCanary(c, s.tenantId(), stable, candidate, pct)
            .compose(id -> audit.record(c, s, Forms.ip(ctx), "rollout.start", "rollout:" + id,
                new JsonObject().put("stable", stable.toString()).put("candidate", candidate.toString())
                    .put("percentage", pct.toPlainString()))))
        .compose(x -> ConsoleRouter.done(ctx, "/models", "saved"));
  }

  private Future<?> percentage(RoutingContext ctx, ConsoleSession s) {
    UUID id = Forms.id(ctx, "id");
    BigDecimal pct = percentage(ctx);
    return database.inTenant(s.tenantId(), c -> RolloutService.setPercentage(c, id, pct)
            .compose(x -> audit.record(c, s, Forms.ip(ctx), "rollout.percentage", "rollout:" + id,
                new JsonObject().put("percentage", pct.toPlainString()))))
        .compose(x -> ConsoleRouter.done(ctx, "/models", "saved"));
  }
}
