package ai.deepchat.rag.faiss;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The JNI entry points themselves, called with what {@link FaissIndex} never passes: every bad
 * argument is a {@link FaissException} with a message, never a crash or an out-of-bounds read, and
 * the index is unchanged afterwards.
 */
class NativeFaissArgumentsTest {

  private static final int DIM = 4;
  private static final float[] ONE_ROW = {1, 0, 0, 0};

  @Test
  void closedHandleIsAnExceptionNotACrash() {
    assertFails(() -> NativeFaiss.ntotal(0), "null index handle");
    assertFails(() -> NativeFaiss.search(0, ONE_ROW, 1, 1, null, new float[1], new long[1]), "null index handle");
    assertFails(() -> NativeFaiss.add(0, ONE_ROW, new long[] {1}), "null index handle");
    assertFails(() -> NativeFaiss.write(0, "/tmp/never-written.index"), "null index handle");
    FaissIndex closed = FaissIndex.create(DIM, "Flat", Metric.L2);
    closed.close();
    assertThatThrownBy(() -> closed.search(ONE_ROW, 1)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void nullArgumentsAreExceptions() {
    assertFails(() -> NativeFaiss.create(DIM, null, 0), "null string argument");
    assertFails(() -> NativeFaiss.read(null), "null string argument");
    long handle = NativeFaiss.create(DIM, "Flat", Metric.L2.ordinal());
    try {
      assertFails(() -> NativeFaiss.add(handle, null, new long[] {1}), "null array argument");
      assertFails(() -> NativeFaiss.add(handle, ONE_ROW, null), "null array argument");
      assertFails(() -> NativeFaiss.train(handle, null, 1), "null array argument");
      assertFails(() -> NativeFaiss.remove(handle, null), "null array argument");
      assertFails(() -> NativeFaiss.search(handle, null, 1, 1, null, new float[1], new long[1]),
          "null array argument");
      assertFails(() -> NativeFaiss.search(handle, ONE_ROW, 1, 1, null, null, new long[1]), "null distances array");
      assertFails(() -> NativeFaiss.search(handle, ONE_ROW, 1, 1, null, new float[1], null), "null labels array");
      assertFails(() -> NativeFaiss.setParameter(handle, null, 1), "null string argument");
      assertFails(() -> NativeFaiss.write(handle, null), "null string argument");
    } finally {
      NativeFaiss.free(handle);
    }
  }

  @Test
  void sizesThatDisagreeAreExceptionsAndChangeNothing() {
    long handle = NativeFaiss.create(DIM, "Flat", Metric.L2.ordinal());
    try {
      NativeFaiss.add(handle, ONE_ROW, new long[] {7});
      // More rows claimed than the array holds: FAISS would read past its end.
      assertFails(() -> NativeFaiss.search(handle, ONE_ROW, 1_000, 1, null, new float[1_000], new long[1_000]),
          "4 floats are not 1000 rows of dimension 4");
      assertFails(() -> NativeFaiss.train(handle, ONE_ROW, 2), "4 floats are not 2 rows of dimension 4");
      assertFails(() -> NativeFaiss.search(handle, ONE_ROW, -1, 1, null, new float[1], new long[1]),
          "row count must be >= 0, got -1");
      assertFails(() -> NativeFaiss.add(handle, new float[DIM * 2], new long[] {8}),
          "8 floats are not 1 rows of dimension 4");
      assertFails(() -> NativeFaiss.search(handle, ONE_ROW, 1, 0, null, new float[1], new long[1]),
          "k must be positive, got 0");
      // Result arrays too short for n * k answers.
      assertFails(() -> NativeFaiss.search(handle, ONE_ROW, 1, 3, null, new float[3], new long[2]),
          "labels array holds fewer than 3 values");
      assertFails(() -> NativeFaiss.create(DIM, "Flat", 7), "unknown metric 7");

      assertThat(NativeFaiss.ntotal(handle)).isEqualTo(1);
      float[] distances = new float[1];
      long[] labels = new long[1];
      NativeFaiss.search(handle, ONE_ROW, 1, 1, null, distances, labels);
      assertThat(labels).containsExactly(7);
    } finally {
      NativeFaiss.free(handle);
    }
  }

  private static void assertFails(Executable call, String message) {
    assertThatThrownBy(call::execute).isInstanceOf(FaissException.class).hasMessage(message);
  }
}
