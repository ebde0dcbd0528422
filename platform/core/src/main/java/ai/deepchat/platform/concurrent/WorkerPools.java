package ai.deepchat.platform.concurrent;

import ai.deepchat.platform.config.PlatformConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.shareddata.Shareable;

import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * The node's named worker pools, one per kind of blocking work, sized by configuration
 * ({@link PlatformConfig.Workers}). Vert.x's default worker pool stays for the rest; a sign-in flood
 * then cannot hold the threads that embed the next question, nor a burst of embeddings the threads
 * that admit generations. Installed once per Vert.x instance by the launcher; without that (tests
 * that build parts alone) the default sizes apply. Run work with {@code executeBlocking(task, false)}:
 * the tasks of one kind are independent, and ordered execution would run them one at a time per
 * context.
 */
public final class WorkerPools implements Shareable {

  /** The kinds of work; the pool's name shows in thread names and blocked-thread warnings. */
  public enum Kind {
    PASSWORD_HASHING, EMBEDDINGS, TOKENIZER, ENGINE_ADMISSIONS, OUTBOUND_LOOKUPS;

    /** {@code password-hashing}, {@code embeddings}, {@code tokenizer}, {@code engine-admissions}, {@code outbound-lookups}. */
    public String poolName() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  private static final String MAP = "deepchat.node";
  private static final String KEY = "worker-pools";

  private final Vertx vertx;
  private final PlatformConfig.Workers sizes;

  private WorkerPools(Vertx vertx, PlatformConfig.Workers sizes) {
    this.vertx = vertx;
    this.sizes = sizes;
  }

  /** Sets this node's pool sizes; call before any part opens a pool (a pool keeps the size it opened with). */
  public static WorkerPools install(Vertx vertx, PlatformConfig.Workers sizes) {
    WorkerPools pools = new WorkerPools(vertx, sizes);
    vertx.sharedData().getLocalMap(MAP).put(KEY, pools);
    return pools;
  }

  /** The pools installed on this Vert.x instance; without one, pools of the default sizes. */
  public static WorkerPools of(Vertx vertx) {
    return (WorkerPools) vertx.sharedData().getLocalMap(MAP)
        .computeIfAbsent(KEY, k -> new WorkerPools(vertx, PlatformConfig.Workers.defaults()));
  }

  public int size(Kind kind) {
    return switch (kind) {
      case PASSWORD_HASHING -> sizes.passwordHashing();
      case EMBEDDINGS -> sizes.embeddings();
      case TOKENIZER -> sizes.tokenizer();
      case ENGINE_ADMISSIONS -> sizes.engineAdmissions();
      case OUTBOUND_LOOKUPS -> sizes.outboundLookups();
    };
  }

  /**
   * A handle on the node's pool of {@code kind}: every handle of a kind shares its threads. Open it
   * once where it is used (a verticle's start, a node-wide service's constructor), not per task: like
   * every Vert.x worker executor it closes with the verticle that opened it, or with Vert.x.
   */
  public WorkerExecutor open(Kind kind) {
    return vertx.createSharedWorkerExecutor(kind.poolName(), size(kind));
  }

  /**
   * Runs one task on the pool of {@code kind}, for parts without a lifetime to hold a handle (a value
   * such as the outbound policy, built by many parts): the handle lives for this task only. The pool is
   * shared by name, so its size bounds every caller together; when no task of the kind is running it
   * has no threads, and the next task starts one, which costs little next to the waits it is for.
   */
  public <T> Future<T> runOnce(Kind kind, Callable<T> task) {
    WorkerExecutor handle = open(kind);
    return handle.executeBlocking(task, false).eventually(handle::close);
  }
}
