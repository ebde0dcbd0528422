package ai.deepchat.rag.eval;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.chat.ChatMessages.QueryTranslation;
import ai.deepchat.platform.chat.ChatMessages.TranslateRequest;
import ai.deepchat.platform.db.Database;
import ai.deepchat.rag.KnowledgeBaseService;
import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import ai.deepchat.rag.Retriever;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Evaluation sets and runs of a tenant's knowledge bases (tables of V13, under row-level security). A
 * run is accepted at once and evaluated in the background through the knowledge base's real retrieval;
 * its row says "running" until the figures are written. One run at a time per knowledge base.
 */
public final class Evaluations {

  private static final Logger LOG = LoggerFactory.getLogger(Evaluations.class);
  private static final String SET_COLUMNS = "id, knowledge_base_id, name, question_count, created_at";
  private static final String RUN_COLUMNS = "id, knowledge_base_id, eval_set_id, status, error, "
      + "knowledge_base_version, embedding_model, question_count, recall_at_1, recall_at_5, mrr, "
      + "cross_language_count, cross_recall_at_5, cross_mrr, p95_ms, started_at, finished_at, candidate_knowledge_base_id, "
      + "knowledge_threshold, citation_threshold, answered_rate, cited_recall, query_translation";
  /**
   * A run whose heartbeat is 30 s old died with its node (V32's eval_run_abandoned; runs of nodes of an
   * earlier version, without a heartbeat, after 5 minutes and 2 s per question). A node that starts fails
   * those of every tenant ({@link #failAbandoned}); a knowledge base's own are failed when its runs are
   * read or started too, so a dead run never blocks a new one and the history says what happened.
   */
  static final String STALE = "eval_run_abandoned(heartbeat_at, started_at, question_count)";
  /** The message V32's fail_abandoned_eval_runs() writes too. */
  static final String STALE_ERROR = "the node running this evaluation stopped before it finished; run it again";
  /** How often the node renews the heartbeat of the runs it evaluates: well inside the 30 s. */
  static final long HEARTBEAT_MS = 10_000;
  /** Longer than the router's own translation timeout (1.5 s), so the router's answer is the one heard. */
  private static final long TRANSLATE_TIMEOUT_MS = 5_000;

  private final Vertx vertx;
  private final Database database;
  private final KnowledgeBaseService knowledgeBases;
  private final RetrievalEvaluator evaluator;
  /** The runs this node evaluates, by run id, with their tenant. */
  private final Map<UUID, UUID> inFlight = new ConcurrentHashMap<>();
  private final long heartbeat;

  public Evaluations(Vertx vertx, Database database, KnowledgeBaseService knowledgeBases, Retriever retriever) {
    this.vertx = vertx;
    this.database = database;
    this.knowledgeBases = knowledgeBases;
    this.evaluator = new RetrievalEvaluator(knowledgeBases, retriever);
    this.heartbeat = vertx.setPeriodic(HEARTBEAT_MS, id -> renewHeartbeats()
        .onFailure(failure -> LOG.warn("evaluation heartbeats not renewed", failure)));
  }

  /**
   * Fails the runs of every tenant that a stopped node left "running" (through V32's
   * fail_abandoned_eval_runs(): row-level security hides other tenants' runs from this role); the count.
   */
  public Future<Integer> failAbandoned() {
    return database.global(conn -> conn.query("SELECT fail_abandoned_eval_runs()").execute()
        .map(rows -> rows.iterator().next().getInteger(0)))
        .onSuccess(count -> {
          if (count > 0) {
            LOG.warn("{} evaluation run(s) outlived their node; marked failed", count);
          }
        });
  }

  /** Renews the heartbeat of the runs this node evaluates, one transaction per tenant. */
  Future<Void> renewHeartbeats() {
    Map<UUID, List<UUID>> byTenant = new HashMap<>();
    inFlight.forEach((run, tenant) -> byTenant.computeIfAbsent(tenant, t -> new ArrayList<>()).add(run));
    List<Future<?>> renewed = new ArrayList<>();
    byTenant.forEach((tenant, runs) -> renewed.add(database.inTenant(tenant, conn -> conn
        .preparedQuery("UPDATE eval_runs SET heartbeat_at = now() WHERE id = ANY($1) AND status = 'running'")
        .execute(Tuple.of(runs.toArray(new UUID[0]))))));
    return Future.all(renewed).mapEmpty();
  }

  /** Stops renewing heartbeats: the runs still going are left to the next node's sweep. */
  public void close() {
    vertx.cancelTimer(heartbeat);
  }

  public Future<EvalSet> createSet(UUID tenantId, UUID knowledgeBaseId, String name, List<EvalQuestion> questions) {
    if (name == null || name.isBlank() || name.length() > 200) {
      return Future.failedFuture(new RagException(RagError.INVALID_INPUT, "the set needs a name of 1 to 200 characters"));
    }
    JsonArray stored = new JsonArray();
    questions.forEach(q -> stored.add(new JsonObject().put("question", q.question())
        .put("document", q.document()).put("section", q.section())));
    return knowledgeBases.knowledgeBase(tenantId, knowledgeBaseId).compose(kb -> database.inTenant(tenantId,
        conn -> conn.preparedQuery("INSERT INTO eval_sets (tenant_id, knowledge_base_id, name, questions, "
                + "question_count) VALUES ($1, $2, $3, $4, $5) RETURNING " + SET_COLUMNS)
            .execute(Tuple.of(tenantId, knowledgeBaseId, name.strip(), stored, questions.size()))
            .map(rows -> set(rows.iterator().next()))));
  }

  public Future<List<EvalSet>> listSets(UUID tenantId, UUID knowledgeBaseId) {
    return list(tenantId, knowledgeBaseId, "SELECT " + SET_COLUMNS + " FROM eval_sets WHERE knowledge_base_id = $1 "
        + "ORDER BY created_at DESC, id", Evaluations::set);
  }

  /** Rows of the knowledge base ($1), after checking it is the tenant's (404 otherwise). */
  private <T> Future<List<T>> list(UUID tenantId, UUID knowledgeBaseId, String sql, Function<Row, T> map) {
    return knowledgeBases.knowledgeBase(tenantId, knowledgeBaseId).compose(kb -> database.inTenant(tenantId,
        conn -> failStale(conn, knowledgeBaseId)
            .compose(v -> conn.preparedQuery(sql).execute(Tuple.of(knowledgeBaseId))).map(rows -> {
          List<T> out = new ArrayList<>();
          rows.forEach(row -> out.add(map.apply(row)));
          return out;
        })));
  }

  /**
   * Accepts a run of the set and evaluates it in the background; the returned run is "running". With a
   * {@code candidate} (another knowledge base of the tenant, built with another embedding model or
   * chunking) the set's questions run against it instead, so a change is measured before it is applied;
   * the run is listed with the set's own knowledge base.
   */
  public Future<EvalRun> start(UUID tenantId, UUID knowledgeBaseId, UUID setId, UUID candidate) {
    return start(tenantId, knowledgeBaseId, setId, candidate, null, null, null);
  }

  /**
   * As {@link #start(UUID, UUID, UUID, UUID)}, measured at candidate routing thresholds where given
   * ({@code null}: the tenant's own; used for this run only, never saved to the tenant's settings), and
   * through the vectors of {@code embeddingModel}: the model of the knowledge base's re-embedding that
   * is "ready" and not switched yet ("evaluate before switching"), or null for its own model.
   */
  public Future<EvalRun> start(UUID tenantId, UUID knowledgeBaseId, UUID setId, UUID candidate,
                               Double knowledgeThreshold, Double citationThreshold, String embeddingModel) {
    return start(tenantId, knowledgeBaseId, setId, candidate, knowledgeThreshold, citationThreshold, embeddingModel,
        null);
  }

  /**
   * As above, each question searched with its translation by the tenant's own model beside it when
   * {@code translate} (null: as the tenant's query translation setting says), so a tenant measures
   * translation before turning it on; the run records whether it translated.
   */
  public Future<EvalRun> start(UUID tenantId, UUID knowledgeBaseId, UUID setId, UUID candidate,
                               Double knowledgeThreshold, Double citationThreshold, String embeddingModel,
                               Boolean translate) {
    UUID target = candidate == null ? knowledgeBaseId : candidate;
    return knowledgeBases.knowledgeBase(tenantId, knowledgeBaseId)
        .compose(own -> knowledgeBases.knowledgeBase(tenantId, target))
        .compose(kb -> Future.succeededFuture(kb.searchModel(embeddingModel)).compose(model -> database.inTenant(tenantId,
        conn -> tenantTranslates(conn, translate).compose(translated -> tenantThresholds(conn)
            .map(own -> own.with(knowledgeThreshold, citationThreshold))
            .compose(thresholds -> conn.preparedQuery("SELECT questions FROM eval_sets WHERE id = $1 "
                + "AND knowledge_base_id = $2")
            .execute(Tuple.of(setId, knowledgeBaseId))
            .compose(sets -> {
              if (sets.size() == 0) {
                return Future.failedFuture(new RagException(RagError.NOT_FOUND, "no such evaluation set"));
              }
              JsonArray questions = (JsonArray) sets.iterator().next().getValue(0);
              return failStale(conn, knowledgeBaseId).compose(v -> conn.preparedQuery("INSERT INTO eval_runs "
                      + "(tenant_id, knowledge_base_id, eval_set_id, question_count, embedding_model, "
                      + "candidate_knowledge_base_id, knowledge_threshold, citation_threshold, query_translation, "
                      + "heartbeat_at) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, now() WHERE NOT EXISTS "
                      + "(SELECT 1 FROM eval_runs WHERE knowledge_base_id = $2 AND status = 'running') RETURNING "
                      + RUN_COLUMNS)
                  .execute(Tuple.from(java.util.Arrays.asList(tenantId, knowledgeBaseId, setId, questions.size(),
                      model, candidate, (float) thresholds.knowledge(),
                      (float) thresholds.citation(), translated))))
                  .compose(rows -> rows.size() == 0
                      ? Future.failedFuture(new RagException(RagError.EVALUATION_RUNNING,
                          "an evaluation of this knowledge base is running; wait for it to finish"))
                      : Future.succeededFuture(run(rows.iterator().next(), null)))
                  .onSuccess(run -> evaluate(tenantId, target, run.id(), questions, thresholds, embeddingModel,
                      translated ? this::translate : null));
            }))))));
  }

  /** Whether a run translates: as asked, else as the tenant's query translation setting says. */
  private static Future<Boolean> tenantTranslates(SqlConnection conn, Boolean asked) {
    return asked != null ? Future.succeededFuture(asked)
        : conn.preparedQuery("SELECT query_translation FROM tenant_settings").execute()
            .map(rows -> rows.size() > 0 && Boolean.TRUE.equals(rows.iterator().next().getBoolean(0)));
  }

  /**
   * The question's translation by the tenant's model, asked of the chat pipeline's router as routing
   * would (its cache, its timeout, never the bundled test model); null when there is none or no router
   * answers (a node without the chat pipeline in the cluster): the question is then searched as asked.
   */
  private Future<String> translate(UUID tenantId, String question) {
    return vertx.eventBus().<QueryTranslation>request(Addresses.CHAT_TRANSLATE,
            new TranslateRequest(tenantId.toString(), question),
            new DeliveryOptions().setSendTimeout(TRANSLATE_TIMEOUT_MS))
        .map(reply -> reply.body().searched())
        .otherwise(err -> {
          LOG.debug("evaluation: no translation of a question for tenant {}: {}", tenantId, err.getMessage());
          return null;
        });
  }

  /** The tenant's saved knowledge and citation thresholds (the defaults when it saved none). */
  private static Future<RunThresholds> tenantThresholds(SqlConnection conn) {
    return conn.preparedQuery("SELECT knowledge_threshold, citation_threshold FROM tenant_settings")
        .execute()
        .map(rows -> rows.size() == 0 ? RunThresholds.DEFAULTS
            : new RunThresholds(rows.iterator().next().getFloat(0), rows.iterator().next().getFloat(1)));
  }

  private void evaluate(UUID tenantId, UUID knowledgeBaseId, UUID runId, JsonArray questions,
                        RunThresholds thresholds, String embeddingModel, RetrievalEvaluator.Translator translator) {
    List<EvalQuestion> list = new ArrayList<>();
    for (int i = 0; i < questions.size(); i++) {
      JsonObject q = questions.getJsonObject(i);
      list.add(new EvalQuestion(q.getString("question"), q.getString("document"), q.getString("section")));
    }
    inFlight.put(runId, tenantId);
    evaluator.run(tenantId, knowledgeBaseId, list, thresholds, embeddingModel, translator)
        .compose(report -> database.inTenant(tenantId, conn -> conn.preparedQuery("UPDATE eval_runs SET "
                + "status = 'done', knowledge_base_version = $2, recall_at_1 = $3, recall_at_5 = $4, mrr = $5, "
                + "cross_language_count = $6, cross_recall_at_5 = $7, cross_mrr = $8, p95_ms = $9, "
                + "results = $10, answered_rate = $11, cited_recall = $12, finished_at = now() WHERE id = $1")
            .execute(Tuple.from(List.of(runId, report.knowledgeBaseVersion(), report.overall().recallAt1(),
                report.overall().recallAt5(), report.overall().mrr(), report.crossLanguage().questions(),
                report.crossLanguage().recallAt5(), report.crossLanguage().mrr(), report.p95Millis(),
                resultsJson(report), report.answeredRate(), report.citedRecall())))))
        .recover(failure -> {
          LOG.warn("evaluation run {} failed", runId, failure);
          String message = failure instanceof RagException ? failure.getMessage() : "the evaluation failed; see the node's log";
          return database.inTenant(tenantId, conn -> conn.preparedQuery("UPDATE eval_runs SET status = 'failed', "
              + "error = $2, finished_at = now() WHERE id = $1").execute(Tuple.of(runId, message)));
        })
        .onComplete(ended -> inFlight.remove(runId));
  }

  /** Per question: the question, expected document and section, rank (0: not in the top 10), what came first. */
  static JsonArray resultsJson(EvalReport report) {
    JsonArray out = new JsonArray();
    for (QuestionResult r : report.results()) {
      out.add(new JsonObject().put("question", r.question().question()).put("document", r.question().document())
          .put("section", r.question().section()).put("rank", r.rank()).put("crossLanguage", r.crossLanguage())
          .put("documentKnown", r.documentKnown()).put("firstDocument", r.topTitle())
          .put("firstSection", r.topSection()).put("answered", r.answered()).put("cited", r.cited()));
    }
    return out;
  }

  public Future<List<EvalRun>> listRuns(UUID tenantId, UUID knowledgeBaseId) {
    return list(tenantId, knowledgeBaseId, "SELECT " + RUN_COLUMNS + " FROM eval_runs WHERE knowledge_base_id = $1 "
        + "ORDER BY started_at DESC, id LIMIT 100", row -> run(row, null));
  }

  /** One run with its per-question results. */
  public Future<EvalRun> run(UUID tenantId, UUID knowledgeBaseId, UUID runId) {
    return database.inTenant(tenantId, conn -> failStale(conn, knowledgeBaseId)
        .compose(v -> conn.preparedQuery("SELECT " + RUN_COLUMNS + ", results "
            + "FROM eval_runs WHERE id = $1 AND knowledge_base_id = $2")
        .execute(Tuple.of(runId, knowledgeBaseId)))
        .compose(rows -> rows.size() == 0
            ? Future.failedFuture(new RagException(RagError.NOT_FOUND, "no such evaluation run"))
            : Future.succeededFuture(run(rows.iterator().next(), (JsonArray) rows.iterator().next().getValue(23)))));
  }

  /** Marks the knowledge base's runs that outlived their node failed (in the caller's transaction). */
  private static Future<Void> failStale(SqlConnection conn, UUID knowledgeBaseId) {
    return conn.preparedQuery("UPDATE eval_runs SET status = 'failed', error = $2, finished_at = now() "
            + "WHERE knowledge_base_id = $1 AND status = 'running' AND " + STALE)
        .execute(Tuple.of(knowledgeBaseId, STALE_ERROR))
        .onSuccess(rows -> {
          if (rows.rowCount() > 0) {
            LOG.warn("{} evaluation run(s) of knowledge base {} outlived their node; marked failed", rows.rowCount(),
                knowledgeBaseId);
          }
        })
        .mapEmpty();
  }

  private static EvalSet set(Row row) {
    return new EvalSet(row.getUUID(0), row.getUUID(1), row.getString(2), row.getInteger(3), row.getOffsetDateTime(4));
  }

  private static EvalRun run(Row row, JsonArray results) {
    return new EvalRun(row.getUUID(0), row.getUUID(1), row.getUUID(2), row.getString(3), row.getString(4),
        row.getLong(5), row.getString(6), row.getInteger(7), number(row, 8), number(row, 9), number(row, 10),
        row.getInteger(11), number(row, 12), number(row, 13), number(row, 14), row.getOffsetDateTime(15),
        row.getOffsetDateTime(16), row.getUUID(17), number(row, 18), number(row, 19), number(row, 20),
        number(row, 21), row.getBoolean(22), results);
  }

  private static Double number(Row row, int column) {
    Float value = row.getFloat(column);
    // the float's shortest decimal (0.52, not 0.5199999809...), as it was written
    return value == null ? null : Double.valueOf(value.toString());
  }
}
