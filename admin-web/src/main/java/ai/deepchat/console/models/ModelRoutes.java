package ai.deepchat.console.models;

import ai.deepchat.console.auth.ConsoleRole;
import ai.deepchat.console.auth.ConsoleSession;
import ai.deepchat.console.web.ConsoleException;
import ai.deepchat.console.web.ConsoleRouter;
import ai.deepchat.console.web.Forms;
import ai.deepchat.console.web.Rows;
import ai.deepchat.console.web.Views;
import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.canary.ModelAdmin;
import ai.deepchat.platform.canary.ModelAdmin.Actor;
import ai.deepchat.platform.canary.ModelAdmin.NewVersion;
import ai.deepchat.platform.db.Database;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

/**
 * Model versions and canary rollouts. Every change goes through the platform's model registry and
 * rollout service (which validate states, write the audit trail and tell every node's router at once);
 * this page lists their rows and offers the buttons.
 */
public final class ModelRoutes {

  private final Database database;
  private final Views views;
  private final ModelAdmin models;

  public ModelRoutes(Database database, Views views, ModelAdmin models) {
    this.database = database;
    this.views = views;
    this.models = models;
  }

  public void mount(ConsoleRouter routes) {
    routes.get("/models", ConsoleRole.VIEWER, this::page);
    routes.post("/models", ConsoleRole.ADMIN, this::create);
    routes.post("/models/:id/stable", ConsoleRole.ADMIN, change((ctx, s, id) -> models
        .activate(s.tenantId(), id, actor(ctx, s), "activated in the console")));
    routes.post("/models/:id/retire", ConsoleRole.ADMIN, change((ctx, s, id) -> models
        .retire(s.tenantId(), id, actor(ctx, s))));
    routes.post("/rollouts", ConsoleRole.ADMIN, this::startCanary);
    routes.post("/rollouts/:id/percentage", ConsoleRole.ADMIN, change((ctx, s, id) -> models
        .setPercentage(s.tenantId(), id, basisPoints(ctx), actor(ctx, s))));
    routes.post("/rollouts/:id/promote", ConsoleRole.ADMIN, change((ctx, s, id) -> models
        .promote(s.tenantId(), id, actor(ctx, s), "promoted in the console")));
    routes.post("/rollouts/:id/rollback", ConsoleRole.ADMIN, change((ctx, s, id) -> models
        .rollback(s.tenantId(), id, actor(ctx, s), "rolled back in the console")));
  }

  @FunctionalInterface
  private interface Change {
    Future<?> apply(RoutingContext ctx, ConsoleSession s, UUID id);
  }

  private ConsoleRouter.Action change(Change change) {
    return (ctx, s) -> refused(change.apply(ctx, s, Forms.id(ctx, "id")))
        .compose(x -> ConsoleRouter.done(ctx, "/models", "saved"));
  }

  private static Actor actor(RoutingContext ctx, ConsoleSession s) {
    return new Actor(s.actor(), Forms.ip(ctx));
  }

  /** The registry's refusals as console error pages with the same status and its explanation. */
  private static <T> Future<T> refused(Future<T> f) {
    return f.recover(err -> err instanceof BusFailure.Failed refusal
        ? Future.failedFuture(new ConsoleException(refusal.failure().httpStatus(), "models.error.refused",
            refusal.getMessage()))
        : Future.failedFuture(err));
  }

  private Future<?> page(RoutingContext ctx, ConsoleSession s) {
    return database.inTenant(s.tenantId(), c -> c.query("SELECT id, name, backend, location, state, updated_at, "
            + "stable_since FROM model_versions ORDER BY CASE state WHEN 'stable' THEN 0 WHEN 'canary' THEN 1 "
            + "WHEN 'draft' THEN 2 ELSE 3 END, stable_since DESC NULLS LAST, name").execute()
        .compose(versions -> c.query("SELECT r.id, r.mode, r.state, r.percentage, r.reason, r.updated_at, "
                + "s.name AS stable, cand.name AS candidate FROM rollouts r JOIN model_versions s ON s.id = r.stable_version_id "
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
    JsonObject params;
    try {
      params = paramsText.isEmpty() ? new JsonObject() : new JsonObject(paramsText);
    } catch (DecodeException | ClassCastException e) {
      throw ConsoleException.badRequest("models.error.params");
    }
    return refused(models.create(s.tenantId(), new NewVersion(name, backend, location, params, prompt), actor(ctx, s)))
        .compose(x -> ConsoleRouter.done(ctx, "/models", "saved"));
  }

  /** A percentage with up to two decimals, as basis points (1% = 100). */
  private static int basisPoints(RoutingContext ctx) {
    try {
      BigDecimal p = new BigDecimal(Forms.text(ctx, "percentage", 6, true));
      if (p.signum() < 0 || p.compareTo(BigDecimal.valueOf(100)) > 0) {
        throw new NumberFormatException();
      }
      return p.setScale(2, RoundingMode.HALF_UP).movePointRight(2).intValueExact();
    } catch (NumberFormatException | ArithmeticException e) {
      throw ConsoleException.badRequest("error.invalid", "percentage");
    }
  }

  private Future<?> startCanary(RoutingContext ctx, ConsoleSession s) {
    UUID candidate;
    try {
      candidate = UUID.fromString(Forms.text(ctx, "candidate", 36, true));
    } catch (IllegalArgumentException e) {
      throw ConsoleException.notFound();
    }
    Function<Object, Future<Void>> done = x -> ConsoleRouter.done(ctx, "/models", "saved");
    return refused(models.startCanary(s.tenantId(), candidate, basisPoints(ctx), actor(ctx, s))).compose(done);
  }
}
