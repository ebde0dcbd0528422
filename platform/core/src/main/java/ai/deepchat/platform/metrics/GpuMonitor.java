package ai.deepchat.platform.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * GPU utilisation and memory from {@code nvidia-smi --query-gpu=... --format=csv}, polled on a worker
 * thread (running a process blocks). Where nvidia-smi is not on the PATH the monitor registers no
 * gauges and says so once in the log. Gauges per GPU index: deepchat_gpu_utilization_ratio,
 * deepchat_gpu_memory_used_bytes, deepchat_gpu_memory_total_bytes.
 */
public final class GpuMonitor implements AutoCloseable {

  static final String QUERY = "index,name,utilization.gpu,memory.used,memory.total";
  private static final Logger LOG = LoggerFactory.getLogger(GpuMonitor.class);
  private static final long MIB = 1024L * 1024L;

  /** One GPU's reading; memory in bytes, utilisation 0..1. */
  public record GpuSample(int index, String name, double utilization, long memoryUsed, long memoryTotal) {
  }

  private final Vertx vertx;
  private final MeterRegistry registry;
  private final Path executable;
  private final Map<Integer, GpuSample> latest = new ConcurrentHashMap<>();
  private final Map<Integer, Boolean> registered = new ConcurrentHashMap<>();
  private final AtomicBoolean failureLogged = new AtomicBoolean();
  private final AtomicBoolean polling = new AtomicBoolean();
  private long timer = -1;

  private GpuMonitor(Vertx vertx, MeterRegistry registry, Path executable) {
    this.vertx = vertx;
    this.registry = registry;
    this.executable = executable;
  }

  /**
   * Starts polling every {@code intervalSeconds} with the given nvidia-smi, or the one on the PATH
   * when empty. Returns empty (and logs once) when there is none.
   */
  public static Optional<GpuMonitor> start(Vertx vertx, MeterRegistry registry, Optional<Path> nvidiaSmi,
                                           int intervalSeconds) {
    Optional<Path> exe = nvidiaSmi.isPresent() ? nvidiaSmi.filter(Files::isExecutable) : findOnPath();
    if (exe.isEmpty()) {
      LOG.info("nvidia-smi not found; GPU utilisation and memory gauges are off on this node");
      return Optional.empty();
    }
    GpuMonitor monitor = new GpuMonitor(vertx, registry, exe.get());
    monitor.poll();
    monitor.timer = vertx.setPeriodic(TimeUnit.SECONDS.toMillis(intervalSeconds), id -> monitor.poll());
    return Optional.of(monitor);
  }

  static Optional<Path> findOnPath() {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String dir : path.split(java.io.File.pathSeparator)) {
      if (!dir.isEmpty()) {
        Path candidate = Path.of(dir, "nvidia-smi");
        if (Files.isExecutable(candidate)) {
          return Optional.of(candidate);
        }
      }
    }
    return Optional.empty();
  }

  /** Parses {@code --format=csv,noheader,nounits} output; lines that do not parse are skipped. */
  static List<GpuSample> parse(String csv) {
    List<GpuSample> out = new ArrayList<>();
    for (String line : csv.split("\\R")) {
      String[] f = line.split(",");
      if (f.length != 5) {
        continue;
      }
      try {
        int index = Integer.parseInt(f[0].trim());
        double util = number(f[2]) / 100.0;
        long used = (long) (number(f[3]) * MIB);
        long total = (long) (number(f[4]) * MIB);
        out.add(new GpuSample(index, f[1].trim(), util, used, total));
      } catch (NumberFormatException e) {
        // "[N/A]" or "[Not Supported]" on some boards: skip the line rather than report zero.
      }
    }
    return out;
  }

  private static double number(String s) {
    return Double.parseDouble(s.trim());
  }

  private void poll() {
    if (!polling.compareAndSet(false, true)) {
      return; // the previous poll still runs (a hung driver): never pile up processes
    }
    vertx.executeBlocking(this::query, false)
        .onComplete(ar -> polling.set(false))
        .onSuccess(samples -> samples.forEach(this::update))
        .onFailure(err -> {
          if (failureLogged.compareAndSet(false, true)) {
            LOG.warn("nvidia-smi failed ({}); GPU gauges keep their last values", err.getMessage());
          }
        });
  }

  private List<GpuSample> query() throws IOException, InterruptedException {
    Process p = new ProcessBuilder(executable.toString(), "--query-gpu=" + QUERY, "--format=csv,noheader,nounits")
        .redirectErrorStream(true).start();
    try (InputStream in = p.getInputStream()) {
      byte[] bytes = in.readNBytes(1 << 16);
      if (!p.waitFor(5, TimeUnit.SECONDS)) {
        throw new IOException("timed out");
      }
      if (p.exitValue() != 0) {
        throw new IOException("exit code " + p.exitValue());
      }
      return parse(new String(bytes, StandardCharsets.UTF_8));
    } finally {
      p.destroyForcibly();
    }
  }

  private void update(GpuSample sample) {
    latest.put(sample.index(), sample);
    registered.computeIfAbsent(sample.index(), index -> {
      String gpu = String.valueOf(index);
      Gauge.builder("deepchat.gpu.utilization.ratio", () -> field(index, GpuSample::utilization))
          .tag("gpu", gpu).tag("name", sample.name()).description("GPU busy fraction (nvidia-smi)").register(registry);
      Gauge.builder("deepchat.gpu.memory.used.bytes", () -> field(index, s -> (double) s.memoryUsed()))
          .tag("gpu", gpu).description("GPU memory in use").register(registry);
      Gauge.builder("deepchat.gpu.memory.total.bytes", () -> field(index, s -> (double) s.memoryTotal()))
          .tag("gpu", gpu).description("GPU memory in total").register(registry);
      return true;
    });
  }

  private double field(int index, java.util.function.ToDoubleFunction<GpuSample> f) {
    GpuSample s = latest.get(index);
    return s == null ? Double.NaN : f.applyAsDouble(s);
  }

  @Override
  public void close() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }
}
