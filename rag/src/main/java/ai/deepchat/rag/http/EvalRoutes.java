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
 * POST /{kbId}/evaluation-sets/{setId}/runs  optional {"candidateKnowledgeBaseId"}      202 run (running)
 * GET  /{kbId}/evaluation-runs                                                          200 [run] newest first
 * GET  /{kbId}/evaluation-runs/{runId}                                                  200 run with results
 * </pre>
 */
final class EvalRoutes {

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
        .map(sets -> new JsonArray(sets.stream().map(EvalRoutes::json).toList())));
  }

  private void start(RoutingContext ctx) {
    UUID candidate = null;
    if (ctx.body().length() > 0) {
      String id = RagRoutes.jsonBody(ctx).getString("candidateKnowledgeBaseId");
      try {
        candidate = id == null ? null : UUID.fromString(id);
      } catch (IllegalArgumentException malformed) {
        throw new RagException(RagError.NOT_FOUND, "not found: " + id);
      }
    }
    RagRoutes.respond(ctx, 202, evaluations.start(RagRoutes.tenant(ctx), RagRoutes.id(ctx, "kbId"),
        RagRoutes.id(ctx, "setId"), candidate).map(EvalRoutes::json));
  }

  private void listRuns(RoutingContext ctx) {
    RagRoutes.respond(ctx, 200, evaluations.listRuns(RagRoutes.tenant(ctx), RagRoutes.id(ctx, "kbId"))
        .map(runs -> new JsonArray(runs.stream().map(EvalRoutes::json).toList())));
  }

  private void run(RoutingContext ctx) {
    RagRoutes.respond(ctx, 200, evaluations.run(RagRoutes.tenant(ctx), RagRoutes.id(ctx, "kbId"),
        RagRoutes.id(ctx, "runId")).map(EvalRoutes::json));
  }

  static JsonObject json(EvalSet set) {
    return new JsonObject().put("id", set.id().toString()).put("knowledgeBaseId", set.knowledgeBaseId().toString())
        .put("name", set.name()).put("questionCount", set.questionCount())
        .put("createdAt", set.createdAt().toString());
  }

  static JsonObject json(EvalRun run) {
    JsonObject out = new JsonObject().put("id", run.id().toString())
        .put("knowledgeBaseId", run.knowledgeBaseId().toString()).put("evaluationSetId", run.evalSetId().toString())
        .put("status", run.status()).put("error", run.error()).put("knowledgeBaseVersion", run.knowledgeBaseVersion())
        .put("embeddingModel", run.embeddingModel()).put("questionCount", run.questionCount())
        .put("recallAt1", run.recallAt1()).put("recallAt5", run.recallAt5()).put("mrr", run.mrr())
        .put("crossLanguage", new JsonObject().put("questions", run.crossLanguageCount())
            .put("recallAt5", run.crossRecallAt5()).put("mrr", run.crossMrr()))
        .put("p95Ms", run.p95Millis()).put("startedAt", run.startedAt().toString())
        .put("finishedAt", run.finishedAt() == null ? null : run.finishedAt().toString())
        .put("candidateKnowledgeBaseId", run.candidateKnowledgeBaseId() == null ? null
            : run.candidateKnowledgeBaseId().toString());
    if (run.results() != null) {
      out.put("results", run.results());
    }
    return out;
  }
}
