package ai.deepchat.rag.faiss;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The binding against a brute-force search in Java on random vectors. */
class FaissIndexTest {

  private static final int DIM = 32;

  @Test
  void flatMatchesBruteForceWithOurIds() {
    float[] data = random(2_000, 1);
    long[] ids = ids(2_000);
    float[] queries = random(20, 2);
    for (Metric metric : Metric.values()) {
      try (FaissIndex index = FaissIndex.create(DIM, "Flat", metric)) {
        index.add(data, ids);
        assertThat(index.ntotal()).isEqualTo(2_000);
        assertThat(index.metric()).isEqualTo(metric);
        FaissIndex.SearchResult result = index.search(queries, 10);
        for (int q = 0; q < 20; q++) {
          long[] expected = bruteForce(data, ids, queries, q, 10, metric);
          long[] actual = Arrays.copyOfRange(result.ids(), q * 10, q * 10 + 10);
          assertThat(actual).as("query %d, %s", q, metric).containsExactly(expected);
        }
      }
    }
  }

  @Test
  void hnswRecallAtTenIsHigh() {
    float[] data = random(5_000, 3);
    long[] ids = ids(5_000);
    float[] queries = random(100, 4);
    try (FaissIndex index = FaissIndex.create(DIM, "HNSW32", Metric.L2)) {
      index.setParameter("efSearch", 128);
      index.add(data, ids);
      FaissIndex.SearchResult result = index.search(queries, 10);
      int found = 0;
      for (int q = 0; q < 100; q++) {
        Set<Long> truth = new HashSet<>();
        for (long id : bruteForce(data, ids, queries, q, 10, Metric.L2)) {
          truth.add(id);
        }
        for (int r = 0; r < 10; r++) {
          found += truth.contains(result.id(q, r)) ? 1 : 0;
        }
      }
      assertThat(found / 1000.0).isGreaterThanOrEqualTo(0.95);
    }
  }

  @Test
  void ivfNeedsTrainingThenSearches() {
    float[] data = random(4_000, 5);
    try (FaissIndex index = FaissIndex.create(DIM, "IVF16,Flat", Metric.L2)) {
      assertThat(index.isTrained()).isFalse();
      assertThatThrownBy(() -> index.add(data, ids(4_000))).isInstanceOf(FaissException.class);
      index.train(data);
      index.add(data, ids(4_000));
      index.setParameter("nprobe", 16);
      FaissIndex.SearchResult result = index.search(Arrays.copyOfRange(data, 7 * DIM, 8 * DIM), 1);
      assertThat(result.id(0, 0)).isEqualTo(ids(4_000)[7]);
    }
  }

  @Test
  void removedIdsAreNeverReturnedAndFilterRestrictsHits() {
    float[] data = random(500, 6);
    long[] ids = ids(500);
    try (FaissIndex index = FaissIndex.create(DIM, "Flat", Metric.INNER_PRODUCT)) {
      index.add(data, ids);
      float[] query = Arrays.copyOfRange(data, 3 * DIM, 4 * DIM);
      assertThat(index.remove(ids[3], ids[4], 999_999L)).isEqualTo(2);
      assertThat(index.ntotal()).isEqualTo(498);
      FaissIndex.SearchResult all = index.search(query, 498);
      assertThat(all.ids()).doesNotContain(ids[3], ids[4]);
      long[] allowed = {ids[10], ids[20], ids[30]};
      FaissIndex.SearchResult filtered = index.search(query, 5, allowed);
      assertThat(Arrays.copyOf(filtered.ids(), 3)).containsExactlyInAnyOrder(allowed);
      assertThat(filtered.id(0, 3)).isEqualTo(-1);
    }
  }

  @Test
  void writeReadRoundTrip(@TempDir Path dir) {
    float[] data = random(300, 7);
    long[] ids = ids(300);
    float[] queries = random(5, 8);
    Path file = dir.resolve("kb.index");
    FaissIndex.SearchResult before;
    try (FaissIndex index = FaissIndex.create(DIM, "HNSW16", Metric.INNER_PRODUCT)) {
      index.add(data, ids);
      before = index.search(queries, 7);
      index.write(file);
    }
    try (FaissIndex loaded = FaissIndex.read(file)) {
      assertThat(loaded.ntotal()).isEqualTo(300);
      assertThat(loaded.dimension()).isEqualTo(DIM);
      assertThat(loaded.search(queries, 7).ids()).containsExactly(before.ids());
    }
  }

  @Test
  void badInputThrowsTypedExceptions(@TempDir Path dir) throws Exception {
    assertThatThrownBy(() -> FaissIndex.create(DIM, "NoSuchIndex42", Metric.L2))
        .isInstanceOf(FaissException.class);
    assertThatThrownBy(() -> FaissIndex.create(0, "Flat", Metric.L2))
        .isInstanceOf(FaissException.class);
    Path garbage = dir.resolve("garbage.index");
    Files.write(garbage, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
    assertThatThrownBy(() -> FaissIndex.read(garbage)).isInstanceOf(FaissException.class);
    assertThatThrownBy(() -> FaissIndex.read(dir.resolve("missing.index")))
        .isInstanceOf(FaissException.class);
    try (FaissIndex index = FaissIndex.create(DIM, "Flat", Metric.L2)) {
      assertThatThrownBy(() -> index.add(new float[DIM + 1], new long[1]))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> index.setParameter("noSuchParameter", 1))
          .isInstanceOf(FaissException.class);
    }
  }

  @Test
  void searchingAnEmptyIndexFindsNothing() {
    // FAISS itself reads uninitialised labels here (a crash, at these small sizes reliably).
    for (Metric metric : Metric.values()) {
      try (FaissIndex index = FaissIndex.create(4, "Flat", metric)) {
        assertThat(index.search(new float[] {1, 0, 0, 0}, 1).ids()).containsExactly(-1L);
        assertThat(index.search(new float[] {0, 1, 0, 0}, 2, new long[] {1}).ids()).containsExactly(-1L, -1L);
      }
    }
  }

  @Test
  void useAfterCloseIsRejectedAndCloseIsIdempotent() {
    FaissIndex index = FaissIndex.create(DIM, "Flat", Metric.L2);
    index.close();
    index.close();
    assertThatThrownBy(index::ntotal).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> index.search(new float[DIM], 1)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> index.add(new float[DIM], new long[] {1}))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void concurrentSearchesWithOneWriter() throws Exception {
    float[] data = random(2_000, 9);
    long[] ids = ids(2_000);
    try (FaissIndex index = FaissIndex.create(DIM, "Flat", Metric.INNER_PRODUCT)) {
      index.add(Arrays.copyOf(data, 1_000 * DIM), Arrays.copyOf(ids, 1_000));
      java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
      try {
        List<java.util.concurrent.Future<?>> readers = new java.util.ArrayList<>();
        for (int t = 0; t < 3; t++) {
          readers.add(pool.submit(() -> {
            for (int i = 0; i < 300; i++) {
              FaissIndex.SearchResult r = index.search(Arrays.copyOfRange(data, 0, DIM), 5);
              assertThat(r.id(0, 0)).isEqualTo(ids[0]);
            }
          }));
        }
        java.util.concurrent.Future<?> writer = pool.submit(() -> {
          for (int i = 1_000; i < 2_000; i += 100) {
            index.add(Arrays.copyOfRange(data, i * DIM, (i + 100) * DIM), Arrays.copyOfRange(ids, i, i + 100));
            index.remove(ids[i + 1]);
          }
        });
        writer.get();
        for (java.util.concurrent.Future<?> reader : readers) {
          reader.get();
        }
      } finally {
        pool.shutdownNow();
      }
      assertThat(index.ntotal()).isEqualTo(1_990);
    }
  }

  static float[] random(int n, long seed) {
    Random random = new Random(seed);
    float[] out = new float[n * DIM];
    for (int i = 0; i < out.length; i++) {
      out[i] = random.nextFloat() * 2 - 1;
    }
    return out;
  }

  static long[] ids(int n) {
    return IntStream.range(0, n).mapToLong(i -> 1_000_000L + 7L * i).toArray();
  }

  static long[] bruteForce(float[] data, long[] ids, float[] queries, int q, int k, Metric metric) {
    int n = ids.length;
    double[] score = new double[n];
    for (int i = 0; i < n; i++) {
      double s = 0;
      for (int d = 0; d < DIM; d++) {
        float a = data[i * DIM + d];
        float b = queries[q * DIM + d];
        s += metric == Metric.L2 ? (a - b) * (a - b) : a * b;
      }
      score[i] = metric == Metric.L2 ? s : -s;
    }
    return IntStream.range(0, n).boxed()
        .sorted(Comparator.comparingDouble(i -> score[i]))
        .limit(k).mapToLong(i -> ids[i]).toArray();
  }
}
