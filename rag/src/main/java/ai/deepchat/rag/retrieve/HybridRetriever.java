package ai.deepchat.rag.retrieve;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.embed.Embedder;
import ai.deepchat.platform.embed.RecentVectors;
import ai.deepchat.platform.rag.RagMessages.RetrieveReply;
import ai.deepchat.platform.rag.RagMessages.RetrievedChunk;
import ai.deepchat.rag.KnowledgeBaseService;
import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import ai.deepchat.rag.Retriever;
import ai.deepchat.rag.embed.EmbeddingModels;
import ai.deepchat.rag.embed.EnglishVectors;
import ai.deepchat.rag.index.VectorStore;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Vector search (FAISS, bge query embedding) and lexical search (PostgreSQL full text) run side by
 * side over a candidate pool larger than top-k, then reciprocal rank fusion orders the union. Both
 * search the question together with its {@link QueryBridge bridged} terms in the other language. Every
 * candidate is loaded back through SQL under the tenant, which also drops vectors of chunks deleted
 * since the index was written. In a bge-small-zh knowledge base bge-small-en's opinion of the English
 * candidates is blended into the vector scores ({@link EnglishVectors}); the lexical hits are fused as
 * two lists, those in the question's language and the others; each list's score margins count beside
 * the ranks.
 */
public final class HybridRetriever implements Retriever {

  public static final int MAX_QUERY_CHARS = 2_000;
  private static final int MIN_CANDIDATES = 40;
  /**
   * Rank fusion alone turns a near tie into a whole rank, so each list's score margins count too: the
   * vector one as VECTOR_MARGIN × (cosine − the last candidate's), each lexical one as LEXICAL_MARGIN ×
   * ts_rank / its list's best. A rank step at the top is worth about 1/3,700; the margins let a clear
   * cosine gap or a clearly better term match decide between neighbours (docs/performance.md: MRR
   * 0.835 to 0.847 on the evaluation set, held-out 0.743 to 0.755; 0.1 and 0.005 give the same).
   */
  static final double VECTOR_MARGIN = 0.2;
  static final double LEXICAL_MARGIN = 0.01;
  /**
   * The weight of the lexical hits in the question's own language in the fusion (the vector list and
   * the other language's hits weigh 1). They match the question's own words, which the query embedding
   * already carries, so at full weight the same evidence counts twice and outvotes the vector list's and
   * the bridged terms' (docs/performance.md: MRR 0.847 to 0.862, held-out 0.755 to 0.788; 0.3 to 0.8
   * all pass both).
   */
  static final double SAME_LANGUAGE_LEXICAL_WEIGHT = 0.5;

  private final KnowledgeBaseService knowledgeBases;
  private final VectorStore vectors;
  private final ChunkSearch search;
  private final WorkerExecutor worker;
  private final QueryBridge bridge = QueryBridge.helpCentre();

  /** @param worker where the query is embedded; not the ingestion pool, so queries never queue behind uploads */
  public HybridRetriever(Database database, KnowledgeBaseService knowledgeBases, VectorStore vectors,
                         WorkerExecutor worker) {
    this.knowledgeBases = knowledgeBases;
    this.vectors = vectors;
    this.search = new ChunkSearch(database);
    this.worker = worker;
  }

  @Override
  public Future<RetrieveReply> retrieve(UUID tenantId, UUID knowledgeBaseId, String query, int topK) {
    return retrieve(tenantId, knowledgeBaseId, query, topK, null);
  }

  @Override
  public Future<RetrieveReply> retrieve(UUID tenantId, UUID knowledgeBaseId, String query, int topK,
                                        String embeddingModel) {
    return retrieveTimed(tenantId, knowledgeBaseId, query, topK, embeddingModel).map(Timed::reply);
  }

  @Override
  public Future<RetrieveReply> retrieveTranslated(UUID tenantId, UUID knowledgeBaseId, String query,
                                                  String translation, int topK, String embeddingModel) {
    return retrieveTimed(tenantId, knowledgeBaseId, query, topK, embeddingModel, translation).map(Timed::reply);
  }

  /** A reply with the time each stage took (bench/rag prints their percentiles). */
  public record Timed(RetrieveReply reply, RetrievalStages stages) {
  }

  public Future<Timed> retrieveTimed(UUID tenantId, UUID knowledgeBaseId, String query, int topK) {
    return retrieveTimed(tenantId, knowledgeBaseId, query, topK, null);
  }

  /** {@code embeddingModel}: the knowledge base's pending model during a re-embedding; null: the serving one. */
  public Future<Timed> retrieveTimed(UUID tenantId, UUID knowledgeBaseId, String query, int topK,
                                     String embeddingModel) {
    return retrieveTimed(tenantId, knowledgeBaseId, query, topK, embeddingModel, null);
  }

  /**
   * {@code translation}: the question in the other language (the tenant's model's, see the router), or
   * null; it is searched with the question and its bridged terms, and is bounded like the question.
   */
  public Future<Timed> retrieveTimed(UUID tenantId, UUID knowledgeBaseId, String query, int topK,
                                     String embeddingModel, String translation) {
    if (query == null || query.isBlank()) {
      return Future.failedFuture(new RagException(RagError.INVALID_INPUT, "the query is empty"));
    }
    if (query.length() > MAX_QUERY_CHARS) {
      return Future.failedFuture(new RagException(RagError.INVALID_INPUT,
          "the query is longer than " + MAX_QUERY_CHARS + " characters"));
    }
    int k = Math.max(1, Math.min(topK, MAX_TOP_K));
    int candidates = Math.max(MIN_CANDIDATES, 4 * k);
    RetrievalStages.Clock clock = new RetrievalStages.Clock();
    return knowledgeBases.knowledgeBase(tenantId, knowledgeBaseId).compose(base -> {
      clock.looked = RetrievalStages.Clock.now();
      String model = base.searchModel(embeddingModel);
      Embedder embedder = EmbeddingModels.get(model);
      // The question with the other language's terms for its words: one embedding and one full-text
      // query still, so a bridged question costs no more than before (docs/performance.md).
      String searched = searched(query, bridge.bridge(query), translation);
      Future<List<VectorStore.Hit>> vectorHits = worker
          .executeBlocking(() -> RecentVectors.SHARED.embedQuery(tenantId, embedder, searched), false)
          .compose(vector -> {
            clock.embedded = RetrievalStages.Clock.now();
            return vectors.search(tenantId, knowledgeBaseId, model, embedder.dimension(), vector, candidates);
          })
          .onSuccess(hits -> clock.searched = RetrievalStages.Clock.now());
      Future<List<ChunkSearch.Scored>> lexicalHits =
          search.lexical(tenantId, knowledgeBaseId, LexicalQuery.of(searched), candidates)
              .onSuccess(hits -> clock.fullText = RetrievalStages.Clock.now());
      // embedded beside the other query vector, so the second model adds no wait of its own on a free pool
      Future<float[]> english = EnglishVectors.applies(model)
          ? worker.executeBlocking(() -> RecentVectors.SHARED.embedQuery(tenantId, EnglishVectors.model(), searched),
                  false)
              .onSuccess(v -> clock.englishEmbedded = RetrievalStages.Clock.now())
          : Future.succeededFuture();
      return Future.all(vectorHits, lexicalHits, english)
          .compose(all -> fuse(tenantId, knowledgeBaseId, Script.of(query), vectorHits.result(),
              lexicalHits.result(), english.result(), k, clock))
          .map(hits -> new Timed(new RetrieveReply(knowledgeBaseId.toString(), base.version(), hits),
              clock.stages()));
    });
  }

  /** The question, its bridged terms and its translation (clipped like a question), as one search text. */
  static String searched(String query, String bridged, String translation) {
    StringBuilder out = new StringBuilder(query);
    if (!bridged.isEmpty()) {
      out.append(' ').append(bridged);
    }
    if (translation != null && !translation.isBlank()) {
      out.append(' ').append(translation, 0, Math.min(translation.length(), MAX_QUERY_CHARS));
    }
    return out.toString();
  }

  private Future<List<RetrievedChunk>> fuse(UUID tenantId, UUID knowledgeBaseId, Script asked,
                                            List<VectorStore.Hit> vectorHits,
                                            List<ChunkSearch.Scored> lexicalHits, float[] english, int k,
                                            RetrievalStages.Clock clock) {
    Map<Long, Double> vectorScore = new HashMap<>();
    vectorHits.forEach(h -> vectorScore.putIfAbsent(h.chunkId(), (double) h.score()));
    Map<Long, Double> lexicalScore = new HashMap<>();
    lexicalHits.forEach(h -> lexicalScore.putIfAbsent(h.chunkId(), h.score()));
    Set<Long> union = new HashSet<>(vectorScore.keySet());
    union.addAll(lexicalScore.keySet());
    clock.loadStarted = RetrievalStages.Clock.now();
    return search.load(tenantId, knowledgeBaseId, new ArrayList<>(union)).map(stored -> {
      clock.loaded = RetrievalStages.Clock.now();
      // Rank only what exists in this tenant's knowledge base, so stale vectors cannot take a rank.
      Map<Long, Double> candidates = new HashMap<>();
      vectorHits.stream().filter(h -> stored.containsKey(h.chunkId()))
          .forEach(h -> candidates.putIfAbsent(h.chunkId(), (double) h.score()));
      Map<Long, float[]> englishVectors = new HashMap<>();
      if (english != null) {
        stored.values().stream().filter(c -> c.english() != null)
            .forEach(c -> englishVectors.put(c.chunkId(), c.english()));
      }
      Map<Long, Double> byVector = EnglishVectors.blend(candidates, englishVectors, english);
      // The lexical hits in the question's language match its own words, the others only its bridged
      // terms: two lists, each ranked on its own scale, so neither language's matches crowd out the
      // other's (docs/performance.md).
      List<Long> sameLanguage = new ArrayList<>();
      List<Long> otherLanguage = new ArrayList<>();
      lexicalHits.stream().map(ChunkSearch.Scored::chunkId).filter(stored::containsKey).forEach(id ->
          (Script.of(stored.get(id).text()) == asked ? sameLanguage : otherLanguage).add(id));
      Map<Long, Double> fused = ReciprocalRankFusion.fuse(
          List.of(List.copyOf(byVector.keySet()), sameLanguage, otherLanguage),
          List.of(1.0, SAME_LANGUAGE_LEXICAL_WEIGHT, 1.0));
      if (!byVector.isEmpty()) {
        // a chunk only the lexical search found is taken to be as far as the last vector candidate
        double floor = Collections.min(byVector.values());
        fused.replaceAll((id, f) -> f + VECTOR_MARGIN * (byVector.getOrDefault(id, floor) - floor));
      }
      for (List<Long> list : List.of(sameLanguage, otherLanguage)) {
        if (!list.isEmpty() && lexicalScore.get(list.get(0)) > 0) {
          double best = lexicalScore.get(list.get(0));
          list.forEach(id -> fused.merge(id, LEXICAL_MARGIN * lexicalScore.get(id) / best, Double::sum));
        }
      }
      // Equal fused scores mean the two searches disagree symmetrically (1st/2nd against 2nd/1st):
      // matching terms are then the firmer evidence, so the lexical score decides, then the vector one.
      Comparator<Map.Entry<Long, Double>> order =
          Map.Entry.<Long, Double>comparingByValue(Comparator.reverseOrder())
              .thenComparing(e -> -lexicalScore.getOrDefault(e.getKey(), 0.0))
              .thenComparing(e -> -vectorScore.getOrDefault(e.getKey(), 0.0))
              .thenComparing(Map.Entry::getKey);
      List<RetrievedChunk> out = fused.entrySet().stream()
          .sorted(order)
          .limit(k)
          .map(e -> {
            ChunkSearch.Stored chunk = stored.get(e.getKey());
            return new RetrievedChunk(Long.toString(chunk.chunkId()), chunk.documentId().toString(),
                chunk.title(), chunk.sectionPath(), chunk.text(),
                lexicalScore.getOrDefault(chunk.chunkId(), 0.0),
                vectorScore.getOrDefault(chunk.chunkId(), 0.0), e.getValue());
          })
          .toList();
      clock.fused = RetrievalStages.Clock.now();
      return out;
    });
  }
}
