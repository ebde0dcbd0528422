package ai.deepchat.bench;

import ai.deepchat.tokenizer.BundledTokenizer;
import ai.deepchat.tokenizer.DeepSeekTokenizer;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.ToIntFunction;

/**
 * One token count as the node makes it (#25, docs/performance.md, "why one 38-character encode costs ~260 us in the
 * node"): the bench's numbered question ("What are your opening hours? (12.3)"), encoded one at a time on a pool
 * thread woken for each call at the node's rate, with and without other threads busy on the same cores; DJL's
 * {@code encode} (the full Encoding) against the ids alone. Per call, inside the task: wall time, thread CPU time,
 * bytes allocated; last, the second of two calls in one task (warm). Arguments: calls per run (3000), calls per
 * second (300), busy threads (2).
 */
public final class TokenizerPoolBench {

  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  public static void main(String[] args) throws Exception {
    int calls = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
    int rate = args.length > 1 ? Integer.parseInt(args[1]) : 300;
    int busy = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    Path file = Files.createTempFile("tokenizer", ".json");
    BundledTokenizer.copy("tokenizer.json", file);
    try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(file,
        Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "true"));
         DeepSeekTokenizer tokenizer = DeepSeekTokenizer.load(file, Optional.empty())) {
      // DJL's encode as the node called it before, and DeepSeekTokenizer's count (the ids alone) as it does now
      ToIntFunction<String> full = t -> hf.encode(t, false, false).getIds().length;
      ToIntFunction<String> ids = t -> tokenizer.count(t, false);
      System.out.printf("%d calls per run, %d/s on a pool thread, %d busy threads; load %s%n", calls, rate, busy,
          Files.readString(Path.of("/proc/loadavg")).trim());
      for (int round = 0; round < 2; round++) {
        for (String mode : new String[] {"tight", "paced", "paced+busy", "2nd+busy"}) {
          for (String path : new String[] {"full", "ids"}) {
            Stats s = switch (mode) {
              case "tight" -> tight(path.equals("full") ? full : ids, calls);
              case "paced" -> paced(path.equals("full") ? full : ids, calls, rate, 0, false);
              case "paced+busy" -> paced(path.equals("full") ? full : ids, calls, rate, busy, false);
              default -> paced(path.equals("full") ? full : ids, calls, rate, busy, true);
            };
            System.out.printf("round %d %-10s %-4s %s%n", round, mode, path, s);
          }
        }
      }
    } finally {
      Files.deleteIfExists(file);
    }
  }

  private static String text(int i) {
    return "What are your opening hours? (" + (i % 997) + "." + (i % 4) + ")";
  }

  /** Back to back on this thread (the earlier microbench's setup). */
  private static Stats tight(ToIntFunction<String> encode, int calls) {
    Stats s = new Stats(calls);
    for (int i = 0; i < calls; i++) {
      s.measure(encode, text(i));
    }
    return s;
  }

  /**
   * One call at a time on a pool thread woken for it, {@code rate} a second, with {@code busy} threads spinning;
   * {@code second}: each task encodes another text first and measures only the second call (caches warmed by the first).
   */
  private static Stats paced(ToIntFunction<String> encode, int calls, int rate, int busy, boolean second)
      throws Exception {
    Stats s = new Stats(calls);
    ExecutorService pool = Executors.newSingleThreadExecutor(r -> new Thread(r, "tokenizer-0"));
    ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor();
    AtomicBoolean stop = new AtomicBoolean();
    Thread[] spinners = new Thread[busy];
    for (int b = 0; b < busy; b++) {
      // other work on the same cores: walks 32 MB, as the node's loops, PostgreSQL and the clients do between calls
      spinners[b] = new Thread(() -> {
        int[] memory = new int[8 << 20];
        int x = 1;
        while (!stop.get()) {
          for (int i = 0; i < memory.length; i += 16) {
            memory[i] += x;
            x = x * 31 + memory[(i * 7) & (memory.length - 1)];
          }
        }
        if (x == 42) {
          System.out.print("");
        }
      }, "busy-" + b);
      spinners[b].setDaemon(true);
      spinners[b].start();
    }
    CountDownLatch done = new CountDownLatch(calls);
    int[] next = {0};
    clock.scheduleAtFixedRate(() -> {
      int i = next[0]++;
      if (i < calls) {
        pool.execute(() -> {
          if (second) {
            encode.applyAsInt(text(i + 500));
          }
          s.measure(encode, text(i));
          done.countDown();
        });
      }
    }, 0, 1_000_000_000L / rate, TimeUnit.NANOSECONDS);
    done.await();
    stop.set(true);
    clock.shutdownNow();
    pool.shutdown();
    pool.awaitTermination(10, TimeUnit.SECONDS);
    for (Thread t : spinners) {
      t.join();
    }
    return s;
  }

  /** Per call: wall and thread CPU time, bytes allocated (written by one thread at a time). */
  private static final class Stats {
    private final long[] wall;
    private final long[] cpu;
    private long bytes;
    private int n;
    private long check;

    Stats(int calls) {
      wall = new long[calls];
      cpu = new long[calls];
    }

    synchronized void measure(ToIntFunction<String> encode, String text) {
      long id = Thread.currentThread().getId();
      long a0 = THREADS.getThreadAllocatedBytes(id);
      long c0 = THREADS.getCurrentThreadCpuTime();
      long w0 = System.nanoTime();
      check += encode.applyAsInt(text);
      long w1 = System.nanoTime();
      long c1 = THREADS.getCurrentThreadCpuTime();
      long a1 = THREADS.getThreadAllocatedBytes(id);
      wall[n] = w1 - w0;
      cpu[n] = c1 - c0;
      bytes += a1 - a0;
      n++;
    }

    @Override
    public synchronized String toString() {
      // the first tenth left out: the JIT and the native caches warming up
      int from = n / 10;
      long[] w = Arrays.copyOfRange(wall, from, n);
      long[] c = Arrays.copyOfRange(cpu, from, n);
      Arrays.sort(w);
      Arrays.sort(c);
      return String.format("wall mean %6.1f p50 %6.1f p99 %7.1f us | cpu mean %6.1f p50 %6.1f p99 %7.1f us | %5d B/call"
              + " | tokens %d", mean(w) / 1e3, w[w.length / 2] / 1e3, w[w.length * 99 / 100] / 1e3, mean(c) / 1e3,
          c[c.length / 2] / 1e3, c[c.length * 99 / 100] / 1e3, bytes / n, check);
    }

    private static double mean(long[] v) {
      return Arrays.stream(v).average().orElse(0);
    }
  }
}
