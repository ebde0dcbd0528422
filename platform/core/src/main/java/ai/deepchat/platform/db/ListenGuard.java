package ai.deepchat.platform.db;

/**
 * What every {@link ListenedCache} guards its entries with: whether its LISTEN is live, and a generation
 * that every invalidation bumps. A value read from the database before an invalidation must not be kept
 * after it, so it is kept only if the generation its read started with is still current, checked and
 * stored under one lock, which invalidations take too.
 */
public final class ListenGuard {

  /** Returned by {@link #begin()} when results must not be kept. */
  public static final long NOT_CACHING = -1;

  private final Object lock = new Object();
  private volatile boolean live;
  private long generation; // guarded by lock

  /** Whether the cache serves now (a LISTEN is live). */
  public boolean live() {
    return live;
  }

  /** To call before a database read; pass the value to {@link #keepIf}. */
  public long begin() {
    synchronized (lock) {
      return live ? generation : NOT_CACHING;
    }
  }

  /** Runs {@code keep} (storing what was read) unless anything was invalidated since {@code startedAt}. */
  public void keepIf(long startedAt, Runnable keep) {
    synchronized (lock) {
      if (live && startedAt == generation) {
        keep.run();
      }
    }
  }

  /** Runs {@code drop} (removing entries) as an invalidation: reads in flight are not kept. */
  public void invalidate(Runnable drop) {
    synchronized (lock) {
      generation++;
      drop.run();
    }
  }

  /** Runs {@code clear}, and starts (true: a LISTEN just succeeded) or stops (false: it was lost) serving. */
  public void reset(boolean listening, Runnable clear) {
    synchronized (lock) {
      generation++;
      live = listening;
      clear.run();
    }
  }

  public long generation() {
    synchronized (lock) {
      return generation;
    }
  }
}
