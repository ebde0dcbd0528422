package ai.deepchat.rag.faiss;

import java.lang.ref.Cleaner;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A FAISS index with 64-bit ids (an IDMap2 around the index a factory string describes). Thread-safe:
 * searches run concurrently, while adds, removals, training and close are exclusive. Close it; a
 * {@link Cleaner} frees the native memory of an index that was forgotten, never a finalizer.
 */
public final class FaissIndex implements AutoCloseable {

  private static final Cleaner CLEANER = Cleaner.create();

  private final NativeHandle handle;
  private final Cleaner.Cleanable cleanable;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final ReadWriteLock lock = new ReentrantReadWriteLock();
  private final int dimension;

  private FaissIndex(long pointer) {
    this.handle = new NativeHandle(pointer);
    this.cleanable = CLEANER.register(this, handle);
    this.dimension = NativeFaiss.dimension(pointer);
  }

  /**
   * @param factory a FAISS factory string: "Flat", "HNSW32", "IVF1024,PQ64", ...
   * @throws FaissException when FAISS rejects the description
   */
  public static FaissIndex create(int dimension, String factory, Metric metric) {
    Objects.requireNonNull(factory, "factory");
    Objects.requireNonNull(metric, "metric");
    return new FaissIndex(NativeFaiss.create(dimension, factory, metric.ordinal()));
  }

  /** Reads an index {@link #write written} before; a damaged file throws {@link FaissException}. */
  public static FaissIndex read(Path file) {
    return new FaissIndex(NativeFaiss.read(file.toAbsolutePath().toString()));
  }

  public int dimension() {
    return dimension;
  }

  public long ntotal() {
    return withRead(NativeFaiss::ntotal);
  }

  /** Whether {@link #close()} was called: every later use throws {@link IllegalStateException}. */
  public boolean isClosed() {
    return closed.get();
  }

  public boolean isTrained() {
    return withRead(NativeFaiss::isTrained);
  }

  public Metric metric() {
    return Metric.values()[withRead(NativeFaiss::metric)];
  }

  /** Trains quantizers (IVF, PQ) on {@code vectors}, row-major, {@code dimension} floats each. */
  public void train(float[] vectors) {
    int n = rows(vectors);
    withWrite(h -> NativeFaiss.train(h, vectors, n));
  }

  public void add(float[] vectors, long[] ids) {
    if (rows(vectors) != ids.length) {
      throw new IllegalArgumentException(ids.length + " ids for " + rows(vectors) + " vectors");
    }
    withWrite(h -> NativeFaiss.add(h, vectors, ids));
  }

  /** @return how many of {@code ids} were present and are now removed */
  public long remove(long... ids) {
    long[] removed = new long[1];
    withWrite(h -> removed[0] = NativeFaiss.remove(h, ids));
    return removed[0];
  }

  public SearchResult search(float[] queries, int k) {
    return search(queries, k, null);
  }

  /**
   * k nearest neighbours of each query; with {@code allowedIds} only those ids can be returned.
   * Missing neighbours have id -1.
   */
  public SearchResult search(float[] queries, int k, long[] allowedIds) {
    if (k <= 0) {
      throw new IllegalArgumentException("k must be positive");
    }
    int n = rows(queries);
    float[] distances = new float[n * k];
    long[] ids = new long[n * k];
    withRead(h -> {
      NativeFaiss.search(h, queries, n, k, allowedIds, distances, ids);
      return null;
    });
    return new SearchResult(n, k, distances, ids);
  }

  /** Sets a search-time parameter of the wrapped index, e.g. "efSearch" or "nprobe". */
  public void setParameter(String name, double value) {
    withWrite(h -> NativeFaiss.setParameter(h, name, value));
  }

  public void write(Path file) {
    String path = file.toAbsolutePath().toString();
    withRead(h -> {
      NativeFaiss.write(h, path);
      return null;
    });
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      lock.writeLock().lock();
      try {
        cleanable.clean();
      } finally {
        lock.writeLock().unlock();
      }
    }
  }

  private int rows(float[] vectors) {
    if (vectors.length % dimension != 0) {
      throw new IllegalArgumentException(vectors.length + " floats is not a multiple of dimension "
          + dimension);
    }
    return vectors.length / dimension;
  }

  private interface Read<T> {
    T apply(long handle);
  }

  private interface Write {
    void apply(long handle);
  }

  private <T> T withRead(Read<T> op) {
    lock.readLock().lock();
    try {
      return op.apply(live());
    } finally {
      lock.readLock().unlock();
    }
  }

  private void withWrite(Write op) {
    lock.writeLock().lock();
    try {
      op.apply(live());
    } finally {
      lock.writeLock().unlock();
    }
  }

  private long live() {
    if (closed.get()) {
      throw new IllegalStateException("FAISS index is closed");
    }
    return handle.pointer;
  }

  /** Holds only the pointer, so the Cleaner's action does not keep the index reachable. */
  private static final class NativeHandle implements Runnable {
    private final long pointer;

    NativeHandle(long pointer) {
      this.pointer = pointer;
    }

    @Override
    public void run() {
      NativeFaiss.free(pointer);
    }
  }

  /** Row-major results: {@code ids[q * k + j]} is the j-th neighbour of query q. */
  public record SearchResult(int queries, int k, float[] distances, long[] ids) {

    public long id(int query, int rank) {
      return ids[query * k + rank];
    }

    public float distance(int query, int rank) {
      return distances[query * k + rank];
    }
  }
}
