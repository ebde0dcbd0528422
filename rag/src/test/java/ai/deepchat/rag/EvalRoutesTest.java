package ai.deepchat.rag;

import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.rag.eval.EvalHarness;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static ai.deepchat.rag.RagTestSupport.BASE;
import static ai.deepchat.rag.RagTestSupport.as;
import static ai.deepchat.rag.RagTestSupport.serve;
import static ai.deepchat.rag.RagTestSupport.tenant;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The evaluation API over real HTTP, PostgreSQL (row-level security), FAISS and embeddings: upload a
 * set as CSV or JSON Lines, run it, read recall@k, MRR, per-question ranks and the history; another
 * tenant sees none of it, and a malformed set is refused with its line and stores nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EvalRoutesTest {

  private Vertx vertx;
  private Rag rag;
  private WebClient client;
  private UUID tenantA;
  private UUID tenantB;
  private String kb;
  private TestDatabase db;

  @BeforeAll
  void start() throws Exception {
    vertx = Vertx.vertx();
    db = TestDatabase.fresh(vertx);
    rag = Rag.create(vertx, db.database(), RagConfig.defaults(Files.createTempDirectory("rag-eval-http")));
    tenantA = tenant(db.database(), "eval-a");
    tenantB = tenant(db.database(), "eval-b");
    client = serve(vertx, rag);
    kb = await(as(tenantA, client.post(BASE + "/")).sendJsonObject(new JsonObject().put("name", "help")))
        .bodyAsJsonObject().getString("id");
    for (String name : new String[] {"speaker-manual.md", "smartwatch-manual-zh.md"}) {
      assertThat(await(as(tenantA, client.post(BASE + "/" + kb + "/documents")).addQueryParam("filename", name)
          .sendBuffer(Buffer.buffer(EvalHarness.resource("docs/" + name)))).statusCode()).isEqualTo(202);
    }
    until("the documents are ready", Duration.ofSeconds(180), () -> {
      JsonArray docs = await(as(tenantA, client.get(BASE + "/" + kb + "/documents")).send()).bodyAsJsonObject().getJsonArray("data");
      return docs.size() == 2 && docs.stream().allMatch(d -> "ready".equals(((JsonObject) d).getString("status")));
    });
  }

  @AfterAll
  void stop() throws Exception {
    await(rag.close());
    await(vertx.close());
  }

  @Test
  void aCsvSetRunsAndShowsFiguresRanksAndHistory() throws Exception {
    String csv = "question,document,section\n"
        + "\"How do I wipe the speaker, before selling it?\",speaker-manual.md,Factory reset\n"
        + "手表充一次电能用几天？,星环智能手表使用手册,充电说明\n"
        + "Can I go swimming with the watch on?,smartwatch-manual-zh.md,防水等级\n"
        + "Where is the moon?,no-such-document.md,\n";
    HttpResponse<Buffer> set = await(as(tenantA, client.post(BASE + "/" + kb + "/evaluation-sets"))
        .addQueryParam("name", "smoke").putHeader("Content-Type", "text/csv").sendBuffer(Buffer.buffer(csv)));
    assertThat(set.statusCode()).isEqualTo(201);
    assertThat(set.bodyAsJsonObject().getInteger("question_count")).isEqualTo(4);
    String setId = set.bodyAsJsonObject().getString("id");

    JsonObject run = runToTheEnd(setId);
    assertThat(run.getString("status")).isEqualTo("done");
    assertThat(run.getInteger("question_count")).isEqualTo(4);
    assertThat(run.getDouble("recall_at_5")).isEqualTo(0.75);
    assertThat(run.getDouble("mrr")).isGreaterThan(0.5).isLessThanOrEqualTo(0.75);
    assertThat(run.getJsonObject("cross_language").getInteger("questions")).isEqualTo(1);
    JsonArray results = run.getJsonArray("results");
    assertThat(results).hasSize(4);
    assertThat(results.getJsonObject(0).getInteger("rank")).isBetween(1, 5);
    assertThat(results.getJsonObject(2).getBoolean("cross_language")).isTrue();
    JsonObject unknown = results.getJsonObject(3);
    assertThat(unknown.getInteger("rank")).isZero();
    assertThat(unknown.getBoolean("document_known")).isFalse();

    JsonArray history = await(as(tenantA, client.get(BASE + "/" + kb + "/evaluation-runs")).send()).bodyAsJsonObject().getJsonArray("data");
    assertThat(history.stream().map(r -> ((JsonObject) r).getString("id"))).contains(run.getString("id"));
    assertThat(history.getJsonObject(0).containsKey("results")).isFalse();

    // another tenant sees neither the set, the runs nor the run
    assertThat(await(as(tenantB, client.get(BASE + "/" + kb + "/evaluation-sets")).send()).statusCode()).isEqualTo(404);
    assertThat(await(as(tenantB, client.get(BASE + "/" + kb + "/evaluation-runs/" + run.getString("id"))).send())
        .statusCode()).isEqualTo(404);
    assertThat(await(as(tenantB, client.post(BASE + "/" + kb + "/evaluation-sets/" + setId + "/runs")).send())
        .statusCode()).isEqualTo(404);
  }

  @Test
  void aJsonSetRunsToo() throws Exception {
    JsonObject body = new JsonObject().put("name", "json").put("questions", new JsonArray()
        .add(new JsonObject().put("question", "Bluetooth pairing, how many phones?").put("document", "speaker-manual")
            .put("section", "Aurora Smart Speaker User Manual > Bluetooth pairing")));
    HttpResponse<Buffer> set = await(as(tenantA, client.post(BASE + "/" + kb + "/evaluation-sets")).sendJsonObject(body));
    assertThat(set.statusCode()).isEqualTo(201);
    JsonObject run = runToTheEnd(set.bodyAsJsonObject().getString("id"));
    // a title-less name and a full section path both match
    assertThat(run.getDouble("recall_at_5")).isEqualTo(1.0);
  }

  @Test
  void aCandidateKnowledgeBaseIsEvaluatedWithTheSetBeforeItIsApplied() throws Exception {
    // the candidate: the same document under the English embedding model
    String candidate = await(as(tenantA, client.post(BASE + "/")).sendJsonObject(new JsonObject()
        .put("name", "help-en").put("embedding_model", "bge-small-en-v1.5-q"))).bodyAsJsonObject().getString("id");
    await(as(tenantA, client.post(BASE + "/" + candidate + "/documents")).addQueryParam("filename", "speaker-manual.md")
        .sendBuffer(Buffer.buffer(EvalHarness.resource("docs/speaker-manual.md"))));
    until("the candidate is ready", Duration.ofSeconds(180), () -> "ready".equals(await(as(tenantA,
        client.get(BASE + "/" + candidate + "/documents")).send()).bodyAsJsonObject().getJsonArray("data").getJsonObject(0).getString("status")));
    JsonObject body = new JsonObject().put("name", "candidate").put("questions", new JsonArray()
        .add(new JsonObject().put("question", "How do I wipe the speaker before selling it?")
            .put("document", "speaker-manual.md").put("section", "Factory reset")));
    String setId = await(as(tenantA, client.post(BASE + "/" + kb + "/evaluation-sets")).sendJsonObject(body))
        .bodyAsJsonObject().getString("id");

    JsonObject run = runToTheEnd(setId, new JsonObject().put("candidate_knowledge_base_id", candidate));
    assertThat(run.getString("status")).isEqualTo("done");
    assertThat(run.getString("candidate_knowledge_base_id")).isEqualTo(candidate);
    assertThat(run.getString("knowledge_base_id")).isEqualTo(kb);
    assertThat(run.getString("embedding_model")).isEqualTo("bge-small-en-v1.5-q");
    assertThat(run.getDouble("recall_at_5")).isEqualTo(1.0);

    // another tenant's knowledge base is no candidate
    String foreign = await(as(tenantB, client.post(BASE + "/")).sendJsonObject(new JsonObject().put("name", "b")))
        .bodyAsJsonObject().getString("id");
    assertThat(await(as(tenantA, client.post(BASE + "/" + kb + "/evaluation-sets/" + setId + "/runs"))
        .sendJsonObject(new JsonObject().put("candidate_knowledge_base_id", foreign))).statusCode()).isEqualTo(404);
  }

  @Test
  void candidateThresholdsAreMeasuredForTheRunOnlyAndNeverSaved() throws Exception {
    JsonObject body = new JsonObject().put("name", "thresholds").put("questions", new JsonArray()
        .add(new JsonObject().put("question", "How do I wipe the speaker before selling it?")
            .put("document", "speaker-manual.md").put("section", "Factory reset"))
        .add(new JsonObject().put("question", "Can I go swimming with the watch on?")
            .put("document", "smartwatch-manual-zh.md").put("section", "防水等级")));
    String setId = await(as(tenantA, client.post(BASE + "/" + kb + "/evaluation-sets")).sendJsonObject(body))
        .bodyAsJsonObject().getString("id");

    // the tenant saved no thresholds: its run measures at the defaults
    JsonObject own = runToTheEnd(setId);
    assertThat(own.getJsonObject("thresholds")).isEqualTo(new JsonObject().put("knowledge", 0.52).put("citation", 0.45));
    assertThat(own.getDouble("answered_rate")).isBetween(0.0, 1.0);
    // citing everything retrieved: every question is answered, with its passage among the citations
    JsonObject lax = runToTheEnd(setId, new JsonObject().put("thresholds", new JsonObject()
        .put("knowledge", 0).put("citation", 0)));
    assertThat(lax.getJsonObject("thresholds")).isEqualTo(new JsonObject().put("knowledge", 0.0).put("citation", 0.0));
    assertThat(lax.getDouble("answered_rate")).isEqualTo(1.0);
    assertThat(lax.getDouble("cited_recall")).isEqualTo(1.0);
    assertThat(lax.getJsonArray("results").getJsonObject(0).getBoolean("cited")).isTrue();
    // a bar no passage reaches: nothing is answered, whatever the ranks (which do not change)
    JsonObject strict = runToTheEnd(setId, new JsonObject().put("thresholds", new JsonObject().put("citation", 0.99)));
    assertThat(strict.getJsonObject("thresholds")).isEqualTo(new JsonObject().put("knowledge", 0.52).put("citation", 0.99));
    assertThat(strict.getDouble("answered_rate")).isZero();
    assertThat(strict.getDouble("cited_recall")).isZero();
    assertThat(strict.getDouble("mrr")).isEqualTo(lax.getDouble("mrr"));
    // the candidates were the runs' own: the next plain run is back at the tenant's thresholds
    assertThat(runToTheEnd(setId).getJsonObject("thresholds")).isEqualTo(own.getJsonObject("thresholds"));

    for (JsonObject bad : List.of(new JsonObject().put("knowledge", 1.5), new JsonObject().put("citation", "high"),
        new JsonObject().put("faq", 0.5))) {
      HttpResponse<Buffer> refused = await(as(tenantA, client.post(BASE + "/" + kb + "/evaluation-sets/" + setId
          + "/runs")).sendJsonObject(new JsonObject().put("thresholds", bad)));
      assertThat(refused.statusCode()).as(bad.encode()).isEqualTo(400);
      assertThat(refused.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("invalid_value");
    }
  }

  @Test
  void aRunLeftRunningByADeadNodeIsMarkedFailedAndCanBeRunAgain() throws Exception {
    // its own knowledge base, so the other tests' runs neither see nor wait for the dead run
    String base = emptyBase("stale");
    String setId = oneQuestionSet(base);
    // what a node that died mid-run leaves: a run "running" since long before a run of its size could take
    String dead = runningRow(base, setId, "10 minutes");
    JsonObject shown = await(as(tenantA, client.get(BASE + "/" + base + "/evaluation-runs/" + dead)).send())
        .bodyAsJsonObject();
    assertThat(shown.getString("status")).isEqualTo("failed");
    assertThat(shown.getString("error")).contains("stopped before it finished");
    assertThat(shown.getString("finished_at")).isNotNull();

    HttpResponse<Buffer> again = await(as(tenantA, client.post(BASE + "/" + base + "/evaluation-sets/" + setId
        + "/runs")).send());
    assertThat(again.statusCode()).isEqualTo(202);
    String runId = again.bodyAsJsonObject().getString("id");
    until("the new run finishes", Duration.ofSeconds(60), () -> "done".equals(await(as(tenantA,
        client.get(BASE + "/" + base + "/evaluation-runs/" + runId)).send()).bodyAsJsonObject().getString("status")));
  }

  @Test
  void aRecentRunStillBlocksASecondOne() throws Exception {
    String base = emptyBase("busy");
    String setId = oneQuestionSet(base);
    runningRow(base, setId, "0 seconds");
    HttpResponse<Buffer> refused = await(as(tenantA, client.post(BASE + "/" + base + "/evaluation-sets/" + setId
        + "/runs")).send());
    assertThat(refused.statusCode()).isEqualTo(409);
    assertThat(await(as(tenantA, client.get(BASE + "/" + base + "/evaluation-runs")).send()).bodyAsJsonObject()
        .getJsonArray("data").getJsonObject(0).getString("status")).isEqualTo("running");
  }

  @Test
  void aMalformedSetIsRefusedWithItsLineAndNothingIsStored() throws Exception {
    int before = await(as(tenantA, client.get(BASE + "/" + kb + "/evaluation-sets")).send()).bodyAsJsonObject().getJsonArray("data").size();
    String jsonl = "{\"question\": \"fine\", \"document\": \"speaker-manual.md\"}\n{\"question\": \"no document\"}\n";
    HttpResponse<Buffer> refused = await(as(tenantA, client.post(BASE + "/" + kb + "/evaluation-sets"))
        .addQueryParam("name", "bad").putHeader("Content-Type", "application/x-ndjson").sendBuffer(Buffer.buffer(jsonl)));
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(refused.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("invalid_value");
    assertThat(refused.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("line 2");
    HttpResponse<Buffer> unclosed = await(as(tenantA, client.post(BASE + "/" + kb + "/evaluation-sets"))
        .addQueryParam("name", "bad").putHeader("Content-Type", "text/csv")
        .sendBuffer(Buffer.buffer("question,document\n\"never closed,speaker-manual.md\n")));
    assertThat(unclosed.statusCode()).isEqualTo(400);
    HttpResponse<Buffer> tooLarge = await(as(tenantA, client.post(BASE + "/" + kb + "/evaluation-sets"))
        .addQueryParam("name", "big").putHeader("Content-Type", "text/csv")
        .sendBuffer(Buffer.buffer("question,document\n" + "x,y.md\n".repeat(200_000))));
    assertThat(tooLarge.statusCode()).isEqualTo(413);
    assertThat(await(as(tenantA, client.get(BASE + "/" + kb + "/evaluation-sets")).send()).bodyAsJsonObject().getJsonArray("data"))
        .hasSize(before);
  }

  private String emptyBase(String name) throws Exception {
    return await(as(tenantA, client.post(BASE + "/")).sendJsonObject(new JsonObject().put("name", name)))
        .bodyAsJsonObject().getString("id");
  }

  private String oneQuestionSet(String base) throws Exception {
    return await(as(tenantA, client.post(BASE + "/" + base + "/evaluation-sets")).sendJsonObject(new JsonObject()
        .put("name", "s").put("questions", new JsonArray().add(new JsonObject().put("question", "Wake word?")
            .put("document", "speaker-manual.md"))))).bodyAsJsonObject().getString("id");
  }

  /** A one-question run left "running" since {@code ago} (a PostgreSQL interval), as a node that died leaves it. */
  private String runningRow(String base, String setId, String ago) throws Exception {
    try (var jdbc = db.ownerJdbc(); var insert = jdbc.prepareStatement("INSERT INTO eval_runs (tenant_id, "
        + "knowledge_base_id, eval_set_id, question_count, started_at) VALUES (?, ?, ?, 1, now() - ?::interval) "
        + "RETURNING id")) {
      insert.setObject(1, tenantA);
      insert.setObject(2, UUID.fromString(base));
      insert.setObject(3, UUID.fromString(setId));
      insert.setString(4, ago);
      var rows = insert.executeQuery();
      rows.next();
      return rows.getString(1);
    }
  }

  @Test
  void aSecondRunWhileOneRunsIsAConflictWithItsOwnCode() throws Exception {
    // enough questions that the first run is still going when the second is asked for
    JsonArray questions = new JsonArray();
    for (int i = 0; i < 200; i++) {
      questions.add(new JsonObject().put("question", "How do I pair Bluetooth, take " + i + "?")
          .put("document", "speaker-manual.md"));
    }
    String setId = await(as(tenantA, client.post(BASE + "/" + kb + "/evaluation-sets"))
        .sendJsonObject(new JsonObject().put("name", "long").put("questions", questions)))
        .bodyAsJsonObject().getString("id");
    HttpResponse<Buffer> first = await(as(tenantA, client.post(BASE + "/" + kb + "/evaluation-sets/" + setId + "/runs")).send());
    assertThat(first.statusCode()).isEqualTo(202);
    HttpResponse<Buffer> second = await(as(tenantA, client.post(BASE + "/" + kb + "/evaluation-sets/" + setId + "/runs")).send());
    assertThat(second.statusCode()).isEqualTo(409);
    assertThat(second.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("evaluation_running");
    String runId = first.bodyAsJsonObject().getString("id");
    until("the long run finishes", Duration.ofSeconds(120), () -> !"running".equals(await(as(tenantA,
        client.get(BASE + "/" + kb + "/evaluation-runs/" + runId)).send()).bodyAsJsonObject().getString("status")));
  }

  private JsonObject runToTheEnd(String setId) throws Exception {
    return runToTheEnd(setId, null);
  }

  private JsonObject runToTheEnd(String setId, JsonObject body) throws Exception {
    var request = as(tenantA, client.post(BASE + "/" + kb + "/evaluation-sets/" + setId + "/runs"));
    HttpResponse<Buffer> started = await(body == null ? request.send() : request.sendJsonObject(body));
    assertThat(started.statusCode()).isEqualTo(202);
    assertThat(started.bodyAsJsonObject().getString("status")).isEqualTo("running");
    String runId = started.bodyAsJsonObject().getString("id");
    JsonObject[] last = new JsonObject[1];
    until("the run finishes", Duration.ofSeconds(60), () -> {
      last[0] = await(as(tenantA, client.get(BASE + "/" + kb + "/evaluation-runs/" + runId)).send()).bodyAsJsonObject();
      return !"running".equals(last[0].getString("status"));
    });
    return last[0];
  }


}
