package ai.deepchat.rag.eval;

import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.rag.DocumentStatus;
import ai.deepchat.rag.KnowledgeBaseService;
import ai.deepchat.rag.Rag;
import ai.deepchat.rag.RagConfig;
import ai.deepchat.rag.Upload;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Tuple;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

import static ai.deepchat.platform.testing.Await.await;

/**
 * The project's bilingual evaluation set (src/test/resources/eval) ingested into a real knowledge base:
 * embedded PostgreSQL, FAISS and the in-process embedding model, through the same upload and retrieval
 * code a tenant uses. Shared by RetrievalQualityTest and the quality mode of bench/rag.
 */
public final class EvalHarness implements AutoCloseable {

  private static final Duration INGESTION = Duration.ofSeconds(600);

  private final Vertx vertx;
  private final Rag rag;
  private final UUID tenant;

  /** @param config the RAG settings under test, given a fresh data directory */
  public EvalHarness(Function<Path, RagConfig> config) throws Exception {
    vertx = Vertx.vertx();
    TestDatabase db = TestDatabase.fresh(vertx);
    rag = Rag.create(vertx, db.database(), config.apply(Files.createTempDirectory("rag-eval")));
    tenant = await(db.database().global(c -> c.preparedQuery(
            "INSERT INTO tenants (slug, name) VALUES ($1, $1) RETURNING id")
        .execute(Tuple.of("eval-" + UUID.randomUUID())).map(rows -> rows.iterator().next().getUUID(0))));
  }

  public static List<EvalQuestion> questions() {
    return EvalSetParser.jsonLines(resource("questions.jsonl"));
  }

  /** Cross-language questions written after the bilingual lexicon was frozen (see the set's README). */
  public static List<EvalQuestion> heldOut() {
    return EvalSetParser.jsonLines(resource("questions-heldout.jsonl"));
  }

  /** The documents the questions name, in first-mention order. */
  public static List<String> documents() {
    Set<String> names = new LinkedHashSet<>();
    questions().forEach(q -> names.add(q.document()));
    return List.copyOf(names);
  }

  /** A new knowledge base holding the evaluation documents. */
  public UUID knowledgeBase(String embeddingModel) throws Exception {
    KnowledgeBaseService service = rag.knowledgeBases();
    UUID kb = await(service.createKnowledgeBase(tenant, "eval-" + UUID.randomUUID(), "", embeddingModel)).id();
    List<Upload> uploads = new ArrayList<>();
    for (String name : documents()) {
      uploads.add(await(service.upload(tenant, kb, name, Buffer.buffer(resource("docs/" + name)))));
    }
    for (Upload upload : uploads) {
      DocumentStatus status = await(upload.completion(), INGESTION);
      if (!"ready".equals(status.status())) {
        throw new IllegalStateException(status.sourceName() + ": " + status.error());
      }
    }
    return kb;
  }

  /**
   * Adds generated help-centre-like documents until the knowledge base holds about {@code chunks}
   * chunks, one short section per chunk, so latency is measured at that size. They share the
   * evaluation documents' vocabulary, so they compete for every query.
   */
  public int pad(UUID kb, int chunks) throws Exception {
    int have = await(rag.knowledgeBases().listDocuments(tenant, kb)).stream().mapToInt(DocumentStatus::chunkCount).sum();
    Random random = new Random(7);
    String[] topics = {"account", "password", "invoice", "refund", "delivery", "parcel", "speaker", "Wi-Fi",
        "Bluetooth", "battery", "points", "membership", "privacy", "cookie", "warranty", "subscription",
        "账号", "密码", "发票", "退款", "配送", "包裹", "音箱", "蓝牙", "电池", "积分", "会员", "隐私", "保修", "订阅"};
    String[] verbs = {"update", "check", "renew", "cancel", "reset", "transfer", "verify", "schedule"};
    int sectionsPerDoc = 100;
    List<Upload> uploads = new ArrayList<>();
    for (int d = 0; have < chunks; d++) {
      StringBuilder md = new StringBuilder("# Reference notes " + d + "\n\n");
      for (int s = 0; s < sectionsPerDoc && have < chunks; s++, have++) {
        String a = topics[random.nextInt(topics.length)];
        String b = topics[random.nextInt(topics.length)];
        String v = verbs[random.nextInt(verbs.length)];
        md.append("## Note ").append(d).append('.').append(s).append(' ').append(a).append("\n\n")
            .append("To ").append(v).append(" the ").append(a).append(" linked to your ").append(b)
            .append(", open the app and follow the steps for ").append(a).append(". 如需").append(b)
            .append("相关帮助，请联系客服，编号 ").append(random.nextInt(100_000)).append("。\n\n");
      }
      uploads.add(await(rag.knowledgeBases().upload(tenant, kb, "notes-" + d + ".md",
          Buffer.buffer(md.toString()))));
    }
    for (Upload upload : uploads) {
      await(upload.completion(), INGESTION);
    }
    return have;
  }

  public EvalReport evaluate(UUID kb, List<EvalQuestion> questions) throws Exception {
    return await(new RetrievalEvaluator(rag.knowledgeBases(), rag.retriever()).run(tenant, kb, questions),
        INGESTION);
  }

  public static String resource(String name) {
    try (InputStream in = EvalHarness.class.getResourceAsStream("/eval/" + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no evaluation resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() throws Exception {
    await(rag.close());
    await(vertx.close());
  }
}
