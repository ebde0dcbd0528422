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
import ai.deepchat.platform.engine.EngineMessages;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.HashMap;
import java.util.LinkedHashMap;
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
    return model(ctx, s, Map.of(), Map.of()).compose(model -> views.render(ctx, "models", model));
  }

  /**
   * The page's model: versions (with whether they can answer now), the workers live in the cluster,
   * rollouts, and the comparison of the rollout named by {@code ?rollout=} (else the active one, else the
   * newest). {@code form} and {@code errors} keep a refused new version's fields and say what is wrong
   * beside each.
   */
  private Future<Map<String, Object>> model(RoutingContext ctx, ConsoleSession s, Map<String, String> form,
                                            Map<String, String> errors) {
    UUID wanted = optionalId(ctx.request().getParam("rollout"));
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
              v.forEach(m -> m.put("live", models.live(String.valueOf(m.get("backend")), String.valueOf(m.get("location")))));
              model.put("versions", v);
              model.put("stables", v.stream().filter(m -> "stable".equals(m.get("state"))).toList());
              model.put("drafts", v.stream().filter(m -> "draft".equals(m.get("state"))).toList());
              List<Map<String, Object>> r = Rows.maps(rollouts);
              r.forEach(m -> m.put("percentage", m.get("percentage") == null ? "0" : m.get("percentage").toString()));
              model.put("rollouts", r);
              model.put("hasActive", r.stream().anyMatch(m -> "active".equals(m.get("state"))));
              List<ModelAdmin.LiveWorker> workers = models.liveWorkers();
              model.put("workers", workers.stream().map(w -> Map.of("id", w.workerId(),
                  "node", String.valueOf(w.nodeId()), "device", w.device() == null ? "?" : w.device(),
                  "modelKeys", String.join(", ", w.modelKeys()), "running", w.running(), "queued", w.queued())).toList());
              model.put("servedKeys", workers.stream().flatMap(w -> w.modelKeys().stream()).distinct().sorted().toList());
              model.put("form", form);
              model.put("errors", errors);
              String shown = wanted != null ? wanted.toString() : r.isEmpty() ? null : String.valueOf(r.get(0).get("id"));
              model.put("compared", shown);
              return model;
            })))
        .compose(model -> model.get("compared") == null ? Future.succeededFuture(model)
            : models.comparison(s.tenantId(), UUID.fromString((String) model.get("compared")))
                .map(json -> {
                  model.put("comparison", ComparisonView.of(json));
                  return model;
                })
                .recover(err -> err instanceof BusFailure.Failed f && f.failure() == BusFailure.NOT_FOUND
                    ? Future.failedFuture(ConsoleException.notFound()) : Future.failedFuture(err)));
  }

  private static UUID optionalId(String text) {
    if (text == null || text.isEmpty()) {
      return null;
    }
    try {
      return UUID.fromString(text);
    } catch (IllegalArgumentException e) {
      throw ConsoleException.notFound();
    }
  }

  /**
   * Adds a draft version. A value the console or the registry refuses is shown beside its field on the
   * page, with everything typed kept (400); only a refusal of the page itself (role, CSRF) is an error page.
   */
  private Future<?> create(RoutingContext ctx, ConsoleSession s) {
    Map<String, String> form = new LinkedHashMap<>();
    Map<String, String> errors = new LinkedHashMap<>();
    String name = field(ctx, form, errors, "name", 100, true);
    String backend = field(ctx, form, errors, "backend", 10, true);
    String location = field(ctx, form, errors, "location", 500, true);
    String adapter = field(ctx, form, errors, "adapter", 100, false);
    String paramsText = field(ctx, form, errors, "params", 10_000, false);
    String prompt = field(ctx, form, errors, "system_prompt_template", 20_000, false);
    if (!errors.containsKey("backend") && !List.of("local", "openai").contains(backend)) {
      errors.put("backend", views.message(ctx, "error.invalid", "backend"));
    }
    // a LoRA adapter over a local base model is served under "<base>+<adapter>", as the API's adapter field
    if (adapter != null && !adapter.isEmpty() && location != null && !errors.containsKey("backend")) {
      if (!"local".equals(backend) || location.contains(EngineMessages.ADAPTER_SEPARATOR)) {
        errors.put("adapter", views.message(ctx, "models.error.adapter"));
      } else {
        location = EngineMessages.adapterModelKey(location, adapter);
      }
    }
    JsonObject params = null;
    try {
      params = paramsText == null || paramsText.isEmpty() ? new JsonObject() : new JsonObject(paramsText);
    } catch (DecodeException | ClassCastException e) {
      errors.put("params", views.message(ctx, "models.error.params"));
    }
    if (!errors.isEmpty()) {
      return refusedForm(ctx, s, form, errors, 400);
    }
    return models.create(s.tenantId(), new NewVersion(name, backend, location, params, prompt), actor(ctx, s))
        .compose(x -> ConsoleRouter.done(ctx, "/models", "saved"))
        .recover(err -> {
          if (err instanceof ModelAdmin.InvalidField f) {
            errors.put(f.field().startsWith("params.") ? "params" : f.field(), f.getMessage());
            return refusedForm(ctx, s, form, errors, 400);
          }
          if (err instanceof BusFailure.Failed f && f.failure() == BusFailure.CONFLICT) {
            errors.put("name", f.getMessage()); // the name is taken
            return refusedForm(ctx, s, form, errors, 409);
          }
          return refused(Future.failedFuture(err));
        });
  }

  /** A form field, kept as typed; a missing or too long value is noted in {@code errors} (then null). */
  private String field(RoutingContext ctx, Map<String, String> form, Map<String, String> errors, String name, int max,
                       boolean required) {
    String raw = ctx.request().getFormAttribute(name);
    form.put(name, raw == null ? "" : raw);
    try {
      return Forms.text(ctx, name, max, required);
    } catch (ConsoleException e) {
      errors.put(name, views.message(ctx, e.messageKey(), e.params()));
      return null;
    }
  }

  private Future<Void> refusedForm(RoutingContext ctx, ConsoleSession s, Map<String, String> form,
                                   Map<String, String> errors, int status) {
    return model(ctx, s, form, errors).compose(model -> views.render(ctx, status, "models", model));
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
