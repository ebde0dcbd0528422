package ai.deepchat.console.knowledge;

import ai.deepchat.console.audit.ConsoleAudit;
import ai.deepchat.console.auth.ConsoleRole;
import ai.deepchat.console.auth.ConsoleSession;
import ai.deepchat.console.web.ConsoleException;
import ai.deepchat.console.web.ConsoleRouter;
import ai.deepchat.console.web.Forms;
import ai.deepchat.console.web.Rows;
import ai.deepchat.console.web.Views;
import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.db.Database;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Retrieval evaluation of a knowledge base: paste a set of questions with their expected document and
 * section (CSV or JSON Lines), run it through the real retrieval, and read recall@1/5, MRR, the
 * per-question ranks and the history of runs. Sets and runs are read here under the tenant's row-level
 * security; storing and running go through the {@link KnowledgeBackend}.
 */
public final class EvaluationRoutes {

  /** A pasted set: about a thousand questions of average length fit in the console's form limit. */
  static final int CONTENT_CHARS = 200_000;

  private final Database database;
  private final Views views;
  private final KnowledgeBackend backend;
  private final ConsoleAudit audit;

  public EvaluationRoutes(Database database, Views views, KnowledgeBackend backend, ConsoleAudit audit) {
    this.database = database;
    this.views = views;
    this.backend = backend;
    this.audit = audit;
  }

  public void mount(ConsoleRouter routes) {
    routes.get("/kb/:kb/evaluation", ConsoleRole.VIEWER, this::page);
    routes.post("/kb/:kb/evaluation/sets", ConsoleRole.EDITOR, this::createSet);
    routes.post("/kb/:kb/evaluation/sets/:set/run", ConsoleRole.EDITOR, this::run);
    routes.get("/kb/:kb/evaluation/runs/:run", ConsoleRole.VIEWER, this::runDetail);
  }

  private Future<?> page(RoutingContext ctx, ConsoleSession s) {
    return render(ctx, s, Forms.id(ctx, "kb"), 200, new HashMap<>());
  }

  private Future<Void> render(RoutingContext ctx, ConsoleSession s, UUID kb, int status, Map<String, Object> model) {
    return KnowledgeRoutes.base(database, s, kb).compose(base -> database.inTenant(s.tenantId(), c -> c
            .preparedQuery("SELECT id, name, question_count, created_at FROM eval_sets WHERE knowledge_base_id = $1 "
                + "ORDER BY created_at DESC").execute(Tuple.of(kb))
            .compose(sets -> c.preparedQuery("SELECT r.id, s.name AS set_name, r.status, r.error, r.question_count, "
                    + "r.recall_at_1, r.recall_at_5, r.mrr, r.cross_language_count, r.cross_recall_at_5, r.cross_mrr, "
                    + "r.p95_ms, r.knowledge_base_version, r.embedding_model, r.started_at FROM eval_runs r "
                    + "JOIN eval_sets s ON s.id = r.eval_set_id WHERE r.knowledge_base_id = $1 "
                    + "ORDER BY r.started_at DESC LIMIT 50").execute(Tuple.of(kb))
                .map(runs -> {
                  model.put("section", "kb");
                  model.put("kb", base);
                  model.put("sets", Rows.maps(sets));
                  List<Map<String, Object>> shown = Rows.maps(runs);
                  shown.forEach(EvaluationRoutes::format);
                  model.put("runs", shown);
                  model.put("running", shown.stream().anyMatch(r -> "running".equals(r.get("status"))));
                  return model;
                }))))
        .compose(m -> views.render(ctx, status, "kb-evaluation", m));
  }

  private Future<?> createSet(RoutingContext ctx, ConsoleSession s) {
    UUID kb = Forms.id(ctx, "kb");
    // the knowledge base first: another tenant's id is a 404 whatever the form holds
    return KnowledgeRoutes.base(database, s, kb).compose(base -> {
      String name = Forms.text(ctx, "name", 200, true);
      String format = Forms.text(ctx, "format", 10, true);
      if (!format.equals("csv") && !format.equals("jsonl")) {
        throw ConsoleException.badRequest("error.invalid", "format");
      }
      String content = Forms.text(ctx, "content", CONTENT_CHARS, true);
      return backend.createEvaluationSet(s.tenantId(), kb, name, format, content)
          .compose(id -> database.inTenant(s.tenantId(), c -> audit.record(c, s, Forms.ip(ctx),
              "kb.eval_set_create", "eval_set:" + id, new JsonObject().put("kb", kb.toString()).put("name", name))))
          .compose(x -> ConsoleRouter.done(ctx, "/kb/" + kb + "/evaluation", "created"))
          // the parser's message names the bad line; the form keeps what was pasted
          .recover(err -> refused(ctx, s, kb, err, 400,
              new HashMap<>(Map.of("form", Map.of("name", name, "format", format, "content", content)))));
    });
  }

  private Future<?> run(RoutingContext ctx, ConsoleSession s) {
    UUID kb = Forms.id(ctx, "kb");
    UUID set = Forms.id(ctx, "set");
    // candidate thresholds try a change before it is saved in the settings: this run only
    Double knowledge = Forms.fraction(ctx, "knowledge_threshold", false);
    Double citation = Forms.fraction(ctx, "citation_threshold", false);
    return KnowledgeRoutes.base(database, s, kb)
        .compose(base -> backend.startEvaluation(s.tenantId(), kb, set, knowledge, citation))
        .compose(run -> database.inTenant(s.tenantId(), c -> audit.record(c, s, Forms.ip(ctx), "kb.eval_run",
            "eval_run:" + run, new JsonObject().put("kb", kb.toString()).put("set", set.toString())
                .put("knowledge_threshold", knowledge).put("citation_threshold", citation))))
        .compose(x -> ConsoleRouter.done(ctx, "/kb/" + kb + "/evaluation", "evaluationStarted"))
        .recover(err -> refused(ctx, s, kb, err, 409, new HashMap<>()));
  }

  /** The page again with the backend's reason (a set's bad line, a run already going) and {@code status}. */
  private Future<Void> refused(RoutingContext ctx, ConsoleSession s, UUID kb, Throwable err, int status,
                               Map<String, Object> model) {
    if (err instanceof ConsoleException) {
      return Future.failedFuture(err);
    }
    if (err instanceof BusFailure.Failed failed && failed.failure() == BusFailure.NOT_FOUND) {
      return Future.failedFuture(ConsoleException.notFound());
    }
    model.put("error", err instanceof KnowledgeBackend.Unavailable ? views.message(ctx, "kb.unavailable")
        : String.valueOf(err.getMessage()));
    return render(ctx, s, kb, status, model);
  }

  private Future<?> runDetail(RoutingContext ctx, ConsoleSession s) {
    UUID kb = Forms.id(ctx, "kb");
    UUID run = Forms.id(ctx, "run");
    return KnowledgeRoutes.base(database, s, kb).compose(base -> database.inTenant(s.tenantId(), c -> c
            .preparedQuery("SELECT r.id, s.name AS set_name, r.status, r.error, r.question_count, r.recall_at_1, "
                + "r.recall_at_5, r.mrr, r.cross_language_count, r.cross_recall_at_5, r.cross_mrr, r.p95_ms, "
                + "r.knowledge_base_version, r.embedding_model, r.started_at, r.knowledge_threshold, "
                + "r.citation_threshold, r.answered_rate, r.cited_recall, r.results FROM eval_runs r "
                + "JOIN eval_sets s ON s.id = r.eval_set_id WHERE r.id = $1 AND r.knowledge_base_id = $2")
            .execute(Tuple.of(run, kb)))
        .compose(rows -> {
          if (rows.size() == 0) {
            throw ConsoleException.notFound();
          }
          JsonArray results = (JsonArray) rows.iterator().next().getValue("results");
          Map<String, Object> shown = Rows.map(rows.iterator().next());
          shown.remove("results");
          format(shown);
          List<Map<String, Object>> questions = new ArrayList<>();
          if (results != null) {
            results.forEach(r -> questions.add(((JsonObject) r).getMap()));
          }
          Map<String, Object> model = new HashMap<>();
          model.put("section", "kb");
          model.put("kb", base);
          model.put("run", shown);
          model.put("questions", questions);
          return views.render(ctx, "kb-evaluation-run", model);
        }));
  }

  /** Figures as the page shows them: three decimals, "–" while running. */
  private static void format(Map<String, Object> run) {
    for (String key : List.of("recall_at_1", "recall_at_5", "mrr", "cross_recall_at_5", "cross_mrr", "answered_rate",
        "cited_recall", "knowledge_threshold", "citation_threshold")) {
      if (!run.containsKey(key)) { // the history's listing reads fewer columns than a run's page
        continue;
      }
      Object v = run.get(key);
      run.put(key, v instanceof Number n ? String.format("%.3f", n.doubleValue()) : "–");
    }
    Object count = run.get("cross_language_count");
    run.put("cross", run.get("cross_recall_at_5") + " / " + run.get("cross_mrr") + " (" + (count == null ? 0 : count) + ")");
    Object p95 = run.get("p95_ms");
    run.put("p95_ms", p95 instanceof Number n ? String.format("%.0f ms", n.doubleValue()) : "–");
  }
}
