package ai.deepchat.rag.bench;

import ai.deepchat.platform.embed.Embedder;
import ai.deepchat.rag.embed.EmbeddingModels;
import ai.deepchat.rag.faiss.FaissIndex;
import ai.deepchat.rag.faiss.Metric;
import ai.deepchat.rag.ingest.Chunk;
import ai.deepchat.rag.ingest.DocumentParser;
import ai.deepchat.rag.ingest.SourceFormat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Benchmark of the RAG module on this machine (run by bench/rag, not a test):
 * FAISS build time, single-query p50/p99 latency and recall@10 against exact search for HNSW and
 * IVF-PQ on 512-dimensional vectors, and ingestion throughput of real Markdown through the bge
 * models. Options: --sizes 100000,1000000  --queries 200  --recall-queries 100  --hnsw-max 1000000
 * --markdown DIR (default /usr/share/doc)  --max-chunks 200
 * --train N (IVF-PQ training sample, default 32 per inverted list)  --skip-vectors  --skip-ingest;
 * or --formats alone: ingestion throughput per file format ({@link FormatBench}).
 */
public final class RagBench {

  private static final int DIM = 512;
  private static final int K = 10;
  private static final int BATCH = 50_000;

  private RagBench() {
  }

  private static int intAfter(List<String> args, String flag, int otherwise) {
    int at = args.indexOf(flag);
    return at >= 0 && at + 1 < args.size() ? Integer.parseInt(args.get(at + 1)) : otherwise;
  }

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--quality")) {
      List<String> quality = Arrays.asList(args);
      RetrievalQualityBench.run(intAfter(quality, "--pad", 10_000), intAfter(quality, "--rounds", 5));
      return;
    }
    if (Arrays.asList(args).contains("--formats")) { // ingestion throughput per file format only
      FormatBench.run();
      return;
    }
    Options o = Options.parse(args);
    System.out.printf("RAG bench: %d cores, max heap %d MiB%n",
        Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
    if (!o.skipIngest) {
      ingestion(o);
    }
    if (!o.skipVectors) {
      for (int n : o.sizes) {
        vectors(n, o);
      }
    }
  }

  private static void vectors(int n, Options o) {
    System.out.printf("%n== %,d vectors, dim %d, inner product over L2-normalized vectors ==%n", n, DIM);
    Random random = new Random(42);
    float[][] centres = new float[1_000][DIM];
    for (float[] c : centres) {
      for (int d = 0; d < DIM; d++) {
        c[d] = (float) random.nextGaussian();
      }
    }
    float[] data = sample(n, centres, random);
    float[] queries = sample(Math.max(o.queries, o.recallQueries), centres, random);
    float[] recallQueries = Arrays.copyOf(queries, o.recallQueries * DIM);
    long[] ids = new long[n];
    for (int i = 0; i < n; i++) {
      ids[i] = i;
    }

    long[] truth;
    try (FaissIndex flat = FaissIndex.create(DIM, "Flat", Metric.INNER_PRODUCT)) {
      long t = System.nanoTime();
      add(flat, data, ids);
      report("Flat", seconds(t), latencies(flat, queries, o.queries), 1.0);
      truth = flat.search(recallQueries, K).ids();
    }

    if (n <= o.hnswMax) {
      try (FaissIndex hnsw = FaissIndex.create(DIM, "HNSW32", Metric.INNER_PRODUCT)) {
        long t = System.nanoTime();
        add(hnsw, data, ids);
        double build = seconds(t);
        for (int ef : new int[] {64, 128}) {
          hnsw.setParameter("efSearch", ef);
          report("HNSW32 efSearch=" + ef, build, latencies(hnsw, queries, o.queries),
              recall(truth, hnsw.search(recallQueries, K).ids(), o.recallQueries));
        }
      }
    } else {
      System.out.printf("HNSW32 skipped above --hnsw-max %,d%n", o.hnswMax);
    }

    int nlist = n >= 500_000 ? 1024 : 256;
    String factory = "IVF" + nlist + ",PQ64";
    try (FaissIndex ivfpq = FaissIndex.create(DIM, factory, Metric.INNER_PRODUCT)) {
      long t = System.nanoTime();
      // 32 points per list: below FAISS's advice of 39, but k-means and the 64 PQ codebooks train
      // in minutes rather than tens of minutes on two cores, at a small cost in recall
      int train = Math.min(n, o.train > 0 ? o.train : 32 * nlist);
      ivfpq.train(Arrays.copyOf(data, train * DIM));
      add(ivfpq, data, ids);
      double build = seconds(t);
      for (int nprobe : new int[] {16, 64}) {
        ivfpq.setParameter("nprobe", nprobe);
        report(factory + " nprobe=" + nprobe, build, latencies(ivfpq, queries, o.queries),
            recall(truth, ivfpq.search(recallQueries, K).ids(), o.recallQueries));
      }
    }
  }

  // Embedding-like data: points around random centres, normalized, so neighbours mean something.
  private static float[] sample(int n, float[][] centres, Random random) {
    float[] out = new float[n * DIM];
    for (int i = 0; i < n; i++) {
      float[] c = centres[random.nextInt(centres.length)];
      double norm = 0;
      for (int d = 0; d < DIM; d++) {
        float v = c[d] + (float) (random.nextGaussian() * 0.8);
        out[i * DIM + d] = v;
        norm += v * v;
      }
      float scale = (float) (1 / Math.sqrt(norm));
      for (int d = 0; d < DIM; d++) {
        out[i * DIM + d] *= scale;
      }
    }
    return out;
  }

  private static void add(FaissIndex index, float[] data, long[] ids) {
    for (int from = 0; from < ids.length; from += BATCH) {
      int to = Math.min(ids.length, from + BATCH);
      index.add(Arrays.copyOfRange(data, from * DIM, to * DIM), Arrays.copyOfRange(ids, from, to));
    }
  }

  /** One query per call, as retrieval issues them; sorted latencies in milliseconds. */
  private static double[] latencies(FaissIndex index, float[] queries, int count) {
    for (int i = 0; i < Math.min(20, count); i++) {
      index.search(Arrays.copyOfRange(queries, i * DIM, (i + 1) * DIM), K);
    }
    double[] ms = new double[count];
    for (int i = 0; i < count; i++) {
      float[] q = Arrays.copyOfRange(queries, i * DIM, (i + 1) * DIM);
      long t = System.nanoTime();
      index.search(q, K);
      ms[i] = (System.nanoTime() - t) / 1e6;
    }
    Arrays.sort(ms);
    return ms;
  }

  private static double recall(long[] truth, long[] found, int queries) {
    int hits = 0;
    for (int q = 0; q < queries; q++) {
      Set<Long> expected = new HashSet<>();
      for (int r = 0; r < K; r++) {
        expected.add(truth[q * K + r]);
      }
      for (int r = 0; r < K; r++) {
        hits += expected.contains(found[q * K + r]) ? 1 : 0;
      }
    }
    return hits / (double) (queries * K);
  }

  private static void report(String name, double buildSeconds, double[] ms, double recall) {
    System.out.printf("%tT %-24s build %8.1f s   search p50 %7.2f ms  p99 %7.2f ms   recall@10 %.3f%n",
        new java.util.Date(), name, buildSeconds, ms[ms.length / 2], ms[(int) Math.min(ms.length - 1, ms.length * 0.99)],
        recall);
  }

  private static void ingestion(Options o) throws IOException {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(o.markdown)) {
      files = walk.filter(p -> p.toString().endsWith(".md") && Files.isRegularFile(p)).sorted().toList();
    }
    DocumentParser parser = new DocumentParser(320, 48);
    List<Chunk> chunks = new ArrayList<>();
    long bytes = 0;
    long parseStart = System.nanoTime();
    int used = 0;
    for (Path file : files) {
      if (chunks.size() >= o.maxChunks) {
        break;
      }
      String text = Files.readString(file, StandardCharsets.UTF_8);
      bytes += text.length();
      used++;
      chunks.addAll(parser.parse(file.getFileName().toString(), SourceFormat.MARKDOWN, text).chunks());
    }
    double parseSeconds = seconds(parseStart);
    List<Chunk> sample = chunks.subList(0, Math.min(chunks.size(), o.maxChunks));
    System.out.printf("%n== ingestion: %d Markdown files from %s, %,d chars -> %d chunks ==%n", used,
        o.markdown, bytes, chunks.size());
    System.out.printf("parse + chunk: %.2f s (%.0f chunks/s)%n", parseSeconds, chunks.size() / parseSeconds);
    for (String model : List.of(EmbeddingModels.BGE_SMALL_ZH, EmbeddingModels.BGE_SMALL_EN)) {
      Embedder embedder = EmbeddingModels.get(model);
      long load = System.nanoTime();
      embedder.embedPassages(List.of("warm up"));
      double loadSeconds = seconds(load);
      long t = System.nanoTime();
      for (int from = 0; from < sample.size(); from += 16) {
        embedder.embedPassages(sample.subList(from, Math.min(sample.size(), from + 16)).stream()
            .map(Chunk::embeddingText).toList());
      }
      double s = seconds(t);
      System.out.printf("%-22s model load %.1f s, embedded %d chunks in %.1f s: %.1f chunks/s%n",
          model, loadSeconds, sample.size(), s, sample.size() / s);
    }
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  private record Options(int[] sizes, int queries, int recallQueries, int hnswMax, Path markdown,
                         int maxChunks, boolean skipVectors, boolean skipIngest, int train) {

    static Options parse(String[] args) {
      int[] sizes = {100_000, 1_000_000};
      int queries = 200;
      int recallQueries = 100;
      int hnswMax = 1_000_000;
      Path markdown = Path.of("/usr/share/doc");
      int maxChunks = 200;
      boolean skipVectors = false;
      boolean skipIngest = false;
      int train = 0;
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--sizes" -> sizes = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
          case "--queries" -> queries = Integer.parseInt(args[++i]);
          case "--recall-queries" -> recallQueries = Integer.parseInt(args[++i]);
          case "--hnsw-max" -> hnswMax = Integer.parseInt(args[++i]);
          case "--markdown" -> markdown = Path.of(args[++i]);
          case "--max-chunks" -> maxChunks = Integer.parseInt(args[++i]);
          case "--skip-vectors" -> skipVectors = true;
          case "--skip-ingest" -> skipIngest = true;
          case "--train" -> train = Integer.parseInt(args[++i]);
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
      }
      return new Options(sizes, queries, recallQueries, hnswMax, markdown, maxChunks, skipVectors,
          skipIngest, train);
    }
  }
}
