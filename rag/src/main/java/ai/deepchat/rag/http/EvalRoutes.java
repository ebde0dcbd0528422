package ai.deepchat.rag.http;

import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import ai.deepchat.rag.eval.EvalQuestion;
import ai.deepchat.rag.eval.EvalRun;
import ai.deepchat.rag.eval.EvalSet;
import ai.deepchat.rag.eval.EvalSetParser;
import ai.deepchat.rag.eval.Evaluations;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * Retrieval evaluation of a knowledge base, beside the routes of {@link RagRoutes}:
 * <pre>
 * POST /{kbId}/evaluation-sets           text/csv or JSON Lines body with ?name=, or JSON
 *                                        {"name", "questions": [{"question", "document", "section"}]}  201 set
 * GET  /{kbId}/evaluation-sets                                                          200 [set]
 * POST /{kbId}/evaluation-sets/{setId}/runs  optional {"candidate_knowledge_base_id",
 *                                        "thresholds": {"knowledge", "citation"}} (this run only),
 *                                        {"embedding_model"} of a re-embedding "ready" to switch,
 *                                        {"query_translation": true|false} (default: the tenant's setting)  202 run
 * GET  /{kbId}/evaluation-runs                                                          200 [run] newest first
 * GET  /{kbId}/evaluation-runs/{runId}                                                  200 run with results
 * </pre>
 */
final class EvalRoutes {

  private static final String CANDIDATE = "candidate_knowledge_base_id";
  private static final String THRESHOLDS = "thresholds";
  private static final String MODEL = "embedding_model";
  private static final String TRANSLATION = "query_translation";

  private final Evaluations evaluations;

  private EvalRoutes(Evaluations evaluations) {
    this.evaluations = evaluations;
  }

  static void mount(Router router, Evaluations evaluations, BodyHandler body) {
    EvalRoutes routes = new EvalRoutes(evaluations);
    router.post("/:kbId/evaluation-sets").handler(body).handler(routes::createSet);
    router.get("/:kbId/evaluation-sets").handler(body).handler(routes::listSets);
    router.post("/:kbId/evaluation-sets/:setId/runs").handler(body).handler(routes::start);
    router.get("/:kbId/evaluation-runs").handler(body).handler(routes::listRuns);
    router.get("/:kbId/evaluation-runs/:runId").handler(body).handler(routes::run);
  }

  private void createSet(RoutingContext ctx) {
    // parsed on the event loop: bounded so that parsing stays a few milliseconds
    if (ctx.body().length() > EvalSetParser.MAX_SET_BYTES) {
      throw new RagException(RagError.TOO_LARGE, "an evaluation set is at most "
          + EvalSetParser.MAX_SET_BYTES / 1024 + " KiB");
    }
    String type = Objects.requireNonNullElse(ctx.request().getHeader("Content-Type"), "").toLowerCase();
    String name = ctx.queryParams().get("name");
    List<EvalQuestion> questions;
    if (type.startsWith("application/json")) {
      JsonObject body = RagRoutes.jsonBody(ctx);
      name = body.getString("name", name);
      Object list = body.getValue("questions");
      if (!(list instanceof JsonArray array)) {
        throw new RagException(RagError.INVALID_INPUT, "questions must be an array of objects");
      }
      StringBuilder lines = new StringBuilder();
      array.forEach(q -> lines.append(q instanceof JsonObject o ? o.encode() : String.valueOf(q)).append('\n'));
      questions = EvalSetParser.jsonLines(lines.toString());
    } else {
      String text = ctx.body().asString("UTF-8");
      questions = type.startsWith("text/csv") ? EvalSetParser.csv(text == null ? "" : text)
          : EvalSetParser.jsonLines(text == null ? "" : text);
    }
    RagRoutes.respond(ctx, 201, evaluations.createSet(RagRoutes.tenant(ctx), RagRoutes.id(ctx, "kbId"), name,
        questions).map(EvalRoutes::json));
  }

  private void listSets(RoutingContext ctx) {
    RagRoutes.respond(ctx, 200, evaluations.listSets(RagRoutes.tenant(ctx), RagRoutes.id(ctx, "kbId"))
        .map(sets -> list(new JsonArray(sets.stream().map(EvalRoutes::json).toList()))));
  }

  private void start(RoutingContext ctx) {
    UUID candidate = null;
    Double knowledge = null;
    Double citation = null;
    String model = null;
    Boolean translate = null;
    if (ctx.body().length() > 0) {
      JsonObject body = RagRoutes.jsonBody(ctx);
      for (String field : body.fieldNames()) {
        if (!field.equals(CANDIDATE) && !field.equals(THRESHOLDS) && !field.equals(MODEL)
            && !field.equals(TRANSLATION)) {
          throw new ApiProblem(400, "invalid_value", field, "Unknown field '" + field + "'; a run takes only "
              + CANDIDATE + ", " + THRESHOLDS + ", " + MODEL + " and " + TRANSLATION + ".");
        }
      }
      Object translation = body.getValue(TRANSLATION);
      if (translation != null && !(translation instanceof Boolean)) {
        throw new ApiProblem(400, "invalid_value", TRANSLATION, TRANSLATION + " must be true or false.");
      }
      translate = (Boolean) translation;
      Object thresholds = body.getValue(THRESHOLDS);
      if (thresholds != null) {
        if (!(thresholds instanceof JsonObject given)) {
          throw new ApiProblem(400, "invalid_value", THRESHOLDS, THRESHOLDS + " must be an object with "
              + "knowledge and/or citation.");
        }
        for (String field : given.fieldNames()) {
          if (!field.equals("knowledge") && !field.equals("citation")) {
            throw new ApiProblem(400, "invalid_value", THRESHOLDS + "." + field, "Unknown threshold '" + field
                + "'; a run takes knowledge and citation.");
          }
        }
        knowledge = threshold(given, "knowledge");
        citation = threshold(given, "citation");
      }
      Object named = body.getValue(MODEL);
      if (named != null && !(named instanceof String)) {
        throw new ApiProblem(400, "invalid_value", MODEL, MODEL + " must be the name of an embedding model.");
      }
      model = (String) named;
      Object value = body.getValue(CANDIDATE);
      if (value != null && !(value instanceof String)) {
        throw new ApiProblem(400, "invalid_value", CANDIDATE, CANDIDATE + " must be a knowledge base id.");
      }
      String id = (String) value;
      try {
        candidate = id == null ? null : UUID.fromString(id);
      } catch (IllegalArgumentException malformed) {
        throw new RagException(RagError.NOT_FOUND, "not found: " + id);
      }
    }
    RagRoutes.respond(ctx, 202, evaluations.start(RagRoutes.tenant(ctx), RagRoutes.id(ctx, "kbId"),
        RagRoutes.id(ctx, "setId"), candidate, knowledge, citation, model, translate).map(EvalRoutes::json));
  }

  /** A candidate threshold of the run (null: the tenant's own), a number from 0 to 1. */
  private static Double threshold(JsonObject given, String name) {
    Object value = given.getValue(name);
    if (value == null) {
      return null;
    }
    if (!(value instanceof Number number) || !(number.doubleValue() >= 0 && number.doubleValue() <= 1)) {
      throw new ApiProblem(400, "invalid_value", THRESHOLDS + "." + name, "The " + name
          + " threshold must be a number from 0 to 1.");
    }
    return number.doubleValue();
  }

  private void listRuns(RoutingContext ctx) {
    RagRoutes.respond(ctx, 200, evaluations.listRuns(RagRoutes.tenant(ctx), RagRoutes.id(ctx, "kbId"))
        .map(runs -> list(new JsonArray(runs.stream().map(EvalRoutes::json).toList()))));
  }

  private void run(RoutingContext ctx) {
    RagRoutes.respond(ctx, 200, evaluations.run(RagRoutes.tenant(ctx), RagRoutes.id(ctx, "kbId"),
        RagRoutes.id(ctx, "runId")).map(EvalRoutes::json));
  }

  static JsonObject json(EvalSet set) {
    return new JsonObject().put("id", set.id().toString()).put("object", "evaluation_set")
        .put("knowledge_base_id", set.knowledgeBaseId().toString())
        .put("name", set.name()).put("question_count", set.questionCount())
        .put("created_at", set.createdAt().toString());
  }

  static JsonObject json(EvalRun run) {
    JsonObject out = new JsonObject().put("id", run.id().toString()).put("object", "evaluation_run")
        .put("knowledge_base_id", run.knowledgeBaseId().toString())
        .put("evaluation_set_id", run.evalSetId().toString())
        .put("status", run.status()).put("error", run.error()).put("knowledge_base_version", run.knowledgeBaseVersion())
        .put("embedding_model", run.embeddingModel()).put("question_count", run.questionCount())
        .put("recall_at_1", run.recallAt1()).put("recall_at_5", run.recallAt5()).put("mrr", run.mrr())
        .put("cross_language", new JsonObject().put("questions", run.crossLanguageCount())
            .put("recall_at_5", run.crossRecallAt5()).put("mrr", run.crossMrr()))
        .put("p95_ms", run.p95Millis()).put("started_at", run.startedAt().toString())
        .put("finished_at", run.finishedAt() == null ? null : run.finishedAt().toString())
        .put(CANDIDATE, run.candidateKnowledgeBaseId() == null ? null : run.candidateKnowledgeBaseId().toString())
        .put(THRESHOLDS, run.knowledgeThreshold() == null ? null : new JsonObject()
            .put("knowledge", run.knowledgeThreshold()).put("citation", run.citationThreshold()))
        .put("answered_rate", run.answeredRate()).put("cited_recall", run.citedRecall())
        .put(TRANSLATION, run.queryTranslation());
    if (run.results() != null) {
      JsonArray results = new JsonArray();
      run.results().forEach(r -> results.add(r instanceof JsonObject o ? snakeKeys(o) : r));
      out.put("results", results);
    }
    return out;
  }

  /** Lists answer as the other knowledge-base lists do. */
  private static JsonObject list(JsonArray data) {
    return new JsonObject().put("object", "list").put("data", data);
  }

  /** A stored per-question result (camelCase, as the console reads it) in the API's snake_case. */
  private static JsonObject snakeKeys(JsonObject in) {
    JsonObject out = new JsonObject();
    in.forEach(e -> out.put(e.getKey().replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT),
        e.getValue()));
    return out;
  }
}
