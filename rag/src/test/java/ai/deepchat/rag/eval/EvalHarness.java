package ai.deepchat.rag.eval;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.platform.embed.Vectors;
import ai.deepchat.platform.rag.RagMessages.RetrieveReply;
import ai.deepchat.platform.rag.RagMessages.RetrieveRequest;
import ai.deepchat.rag.DocumentStatus;
import ai.deepchat.rag.KnowledgeBaseService;
import ai.deepchat.rag.Rag;
import ai.deepchat.rag.RagConfig;
import ai.deepchat.rag.Upload;
import ai.deepchat.rag.embed.EmbeddingModels;
import ai.deepchat.rag.embed.EnglishVectors;
import ai.deepchat.rag.retrieve.HybridRetriever;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
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
  private final Database database;
  private final TestDatabase testDatabase;
  private boolean servingBus;

  /** @param config the RAG settings under test, given a fresh data directory */
  public EvalHarness(Function<Path, RagConfig> config) throws Exception {
    vertx = Vertx.vertx();
    TestDatabase db = TestDatabase.fresh(vertx);
    testDatabase = db;
    database = db.database();
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
   * Adds generated help-centre-like notes until the knowledge base holds about {@code chunks} chunks,
   * one short section per chunk, so latency is measured at that size. They share the evaluation
   * documents' vocabulary, so they compete for every query. The notes are the same on every run, and
   * their vectors (bge-small-zh, and bge-small-en for the English ones, as ingestion makes them) are
   * cached in {@code cacheDir}: a re-run inserts them straight into PostgreSQL and FAISS in seconds
   * instead of embedding 10k chunks again.
   */
  public int pad(UUID kb, int chunks, Path cacheDir) throws Exception {
    int have = await(rag.knowledgeBases().listDocuments(tenant, kb)).stream().mapToInt(DocumentStatus::chunkCount).sum();
    List<PadNote> notes = padNotes(Math.max(0, chunks - have));
    Path cache = cacheDir.resolve("padding-v1-" + notes.size() + ".bin");
    PadVectors vectors = PadVectors.load(cache, notes.size());
    if (vectors == null) {
      vectors = PadVectors.embed(notes);
      vectors.save(cache);
    }
    insert(kb, notes, vectors);
    return have + notes.size();
  }

  /**
   * Refreshes the planner's statistics of the chunks, as autovacuum does within a minute of a bulk
   * insert: without it the queries right after {@link #pad} are planned for the table as it was.
   */
  public void analyze() throws Exception {
    try (java.sql.Connection owner = testDatabase.ownerJdbc(); java.sql.Statement st = owner.createStatement()) {
      st.execute("ANALYZE chunks");
    }
  }

  private record PadNote(int document, String sectionPath, String text) {
    String embeddingText() {
      return sectionPath + "\n" + text;
    }
  }

  private static List<PadNote> padNotes(int count) {
    Random random = new Random(7);
    String[] topics = {"account", "password", "invoice", "refund", "delivery", "parcel", "speaker", "Wi-Fi",
        "Bluetooth", "battery", "points", "membership", "privacy", "cookie", "warranty", "subscription",
        "账号", "密码", "发票", "退款", "配送", "包裹", "音箱", "蓝牙", "电池", "积分", "会员", "隐私", "保修", "订阅"};
    String[] verbs = {"update", "check", "renew", "cancel", "reset", "transfer", "verify", "schedule"};
    int sectionsPerDoc = 100;
    List<PadNote> notes = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int d = i / sectionsPerDoc;
      String a = topics[random.nextInt(topics.length)];
      String b = topics[random.nextInt(topics.length)];
      String v = verbs[random.nextInt(verbs.length)];
      notes.add(new PadNote(d, "Reference notes " + d + " > Note " + d + "." + (i % sectionsPerDoc) + " " + a,
          "To " + v + " the " + a + " linked to your " + b + ", open the app and follow the steps for " + a
              + ". 如需" + b + "相关帮助，请联系客服，编号 " + random.nextInt(100_000) + "。"));
    }
    return notes;
  }

  /** The padding's vectors: bge-small-zh for each note, bge-small-en for the English ones (else null). */
  private record PadVectors(List<float[]> vectors, List<float[]> english) {

    static PadVectors embed(List<PadNote> notes) {
      List<float[]> vectors = new ArrayList<>();
      List<float[]> english = new ArrayList<>();
      int batch = 64;
      for (int i = 0; i < notes.size(); i += batch) {
        List<String> texts = notes.subList(i, Math.min(notes.size(), i + batch)).stream()
            .map(PadNote::embeddingText).toList();
        vectors.addAll(EmbeddingModels.get(EmbeddingModels.BGE_SMALL_ZH).embedPassages(texts));
        english.addAll(EnglishVectors.embed(texts));
        if ((i / batch) % 20 == 0) {
          System.out.printf("  embedded %,d of %,d padding chunks%n", i + texts.size(), notes.size());
        }
      }
      return new PadVectors(vectors, english);
    }

    static PadVectors load(Path file, int count) throws IOException {
      if (!Files.exists(file)) {
        return null;
      }
      try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
        if (in.readInt() != count) {
          return null;
        }
        List<float[]> vectors = new ArrayList<>(count);
        List<float[]> english = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
          vectors.add(read(in));
          english.add(in.readBoolean() ? read(in) : null);
        }
        return new PadVectors(vectors, english);
      }
    }

    void save(Path file) throws IOException {
      Files.createDirectories(file.getParent());
      try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
        out.writeInt(vectors.size());
        for (int i = 0; i < vectors.size(); i++) {
          write(out, vectors.get(i));
          out.writeBoolean(english.get(i) != null);
          if (english.get(i) != null) {
            write(out, english.get(i));
          }
        }
      }
    }

    private static float[] read(DataInputStream in) throws IOException {
      float[] v = new float[in.readInt()];
      for (int i = 0; i < v.length; i++) {
        v[i] = in.readFloat();
      }
      return v;
    }

    private static void write(DataOutputStream out, float[] v) throws IOException {
      out.writeInt(v.length);
      for (float f : v) {
        out.writeFloat(f);
      }
    }
  }

  /** The notes as ready documents of {@code kb}, in PostgreSQL and in its FAISS index. */
  private void insert(UUID kb, List<PadNote> notes, PadVectors vectors) throws Exception {
    Map<Integer, UUID> documents = new HashMap<>();
    List<Long> ids = new ArrayList<>();
    int batch = 500;
    for (int from = 0; from < notes.size(); from += batch) {
      List<Tuple> rows = new ArrayList<>();
      for (int i = from; i < Math.min(notes.size(), from + batch); i++) {
        PadNote note = notes.get(i);
        UUID document = documents.get(note.document());
        if (document == null) {
          document = await(database.inTenant(tenant, c -> c.preparedQuery("INSERT INTO documents (tenant_id, "
                  + "knowledge_base_id, title, source_name, content_type, content_hash, status, progress) "
                  + "VALUES ($1, $2, $3, $4, 'text/markdown', $4, 'ready', 1) RETURNING id")
              .execute(Tuple.of(tenant, kb, "Reference notes " + note.document(), "notes-" + note.document() + ".md"))
              .map(r -> r.iterator().next().getUUID(0))));
          documents.put(note.document(), document);
        }
        float[] english = vectors.english().get(i);
        rows.add(Tuple.of(tenant, kb, document, i, note.sectionPath(), note.text(),
            Vectors.encode(vectors.vectors().get(i))).addBuffer(english == null ? null : Vectors.encode(english)));
      }
      await(database.inTenant(tenant, c -> c.preparedQuery("INSERT INTO chunks (tenant_id, knowledge_base_id, "
              + "document_id, ordinal, section_path, text, embedding, embedding_en) "
              + "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
          .executeBatch(rows).map(first -> {
            for (RowSet<Row> r = first; r != null; r = r.next()) {
              r.forEach(row -> ids.add(row.getLong(0)));
            }
            return null;
          })));
    }
    await(database.inTenant(tenant, c -> c.preparedQuery("UPDATE documents d SET chunk_count = "
        + "(SELECT count(*) FROM chunks c WHERE c.document_id = d.id) WHERE knowledge_base_id = $1")
        .execute(Tuple.of(kb))));
    int dimension = vectors.vectors().get(0).length;
    float[] flat = new float[ids.size() * dimension];
    for (int i = 0; i < ids.size(); i++) {
      System.arraycopy(vectors.vectors().get(i), 0, flat, i * dimension, dimension);
    }
    await(rag.vectorStore().update(tenant, kb, EmbeddingModels.BGE_SMALL_ZH, dimension, new long[0],
        ids.stream().mapToLong(Long::longValue).toArray(), flat), INGESTION);
  }

  /** One question's retrieval with the time of each stage. */
  public HybridRetriever.Timed timed(UUID kb, String question) throws Exception {
    return await(rag.hybridRetriever().retrieveTimed(tenant, kb, question, RetrievalEvaluator.DEPTH), INGESTION);
  }

  /**
   * One question through the retriever's event-bus address ({@link Addresses#RAG_RETRIEVE}), as the chat
   * pipeline's intent router asks it: the message codecs and the {@code RetrieverVerticle} are set up on
   * the first call.
   */
  public RetrieveReply overBus(UUID kb, String question) throws Exception {
    if (!servingBus) {
      Codecs.registerAll(vertx);
      await(vertx.deployVerticle(rag.retrieverVerticle()));
      servingBus = true;
    }
    return await(vertx.eventBus().<RetrieveReply>request(Addresses.RAG_RETRIEVE,
            new RetrieveRequest(tenant.toString(), kb.toString(), question, RetrievalEvaluator.DEPTH))
        .map(message -> message.body()), INGESTION);
  }

  /**
   * CPU time in milliseconds that this harness's PostgreSQL server's processes (its backends and
   * background workers, as pg_stat_activity lists them) have used so far, read from /proc: bench/rag's
   * cost per query, which a busy machine does not inflate the way it does wall time.
   */
  public double postgresCpuMillis() throws Exception {
    List<Integer> pids = await(database.global(c -> c.query("SELECT pid FROM pg_stat_activity").execute()
        .map(rows -> {
          List<Integer> out = new ArrayList<>();
          rows.forEach(row -> out.add(row.getInteger(0)));
          return out;
        })));
    double millis = 0;
    for (int pid : pids) {
      try {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // utime and stime (fields 14 and 15 of proc(5)), in clock ticks of 10 ms
        millis += (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10.0;
      } catch (IOException gone) {
        // a backend that ended between the query and the read
      }
    }
    return millis;
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
