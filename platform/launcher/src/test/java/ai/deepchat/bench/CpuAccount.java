package ai.deepchat.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPU time by role, read from /proc (Linux): the node's threads grouped by name (event loops, worker
 * threads, the engine, GC, JIT), its embedded PostgreSQL, and the load generator.
 * Unlike latencies, CPU seconds per delivered token hardly depend on what else the machine runs, so
 * they are the figures to compare between runs on a shared machine. Empty where /proc is missing.
 */
final class CpuAccount {

  /** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux). */
  private static final double TICKS = 100.0;

  private CpuAccount() {
  }

  /**
   * Ticks by role, for the node {@code nodePid} (when > 0), the PostgreSQL server whose data directory
   * lies under {@code dataDir} (its postmaster detaches from the node, so it is found by command line),
   * and this JVM.
   */
  static Map<String, Long> snapshot(long nodePid, String dataDir) {
    Map<String, Long> ticks = new HashMap<>();
    if (nodePid > 0) {
      threads(nodePid).forEach((name, t) -> ticks.merge(role(name), t, Long::sum));
      ProcessHandle.allProcesses()
          .filter(p -> p.info().commandLine().map(c -> c.contains(" -D " + dataDir)).orElse(false))
          .forEach(postmaster -> {
            ticks.merge("postgres", processTicks(postmaster.pid()), Long::sum);
            postmaster.descendants().forEach(b -> ticks.merge("postgres", processTicks(b.pid()), Long::sum));
          });
    }
    ticks.put("load generator", processTicks(ProcessHandle.current().pid()));
    return ticks;
  }

  /**
   * Ticks of the PostgreSQL server under {@code dataDir} by process kind, from each process's title
   * ("postgres: walwriter"; a backend "postgres: deepchat_app deepchat 127.0.0.1(port) idle" counts as
   * "backend deepchat_app"): the connections' own work apart from the background processes'.
   */
  static Map<String, Long> postgresByProcess(String dataDir) {
    Map<String, Long> ticks = new HashMap<>();
    ProcessHandle.allProcesses()
        .filter(p -> p.info().commandLine().map(c -> c.contains(" -D " + dataDir)).orElse(false))
        .forEach(postmaster -> {
          ticks.merge("postmaster", processTicks(postmaster.pid()), Long::sum);
          postmaster.descendants().forEach(b -> ticks.merge(postgresKind(b.pid()), processTicks(b.pid()), Long::sum));
        });
    return ticks;
  }

  private static String postgresKind(long pid) {
    try {
      String title = Files.readString(Path.of("/proc", String.valueOf(pid), "cmdline")).replace('\0', ' ').trim();
      String[] w = title.replaceFirst("^postgres: ", "").split("\\s+");
      return w.length >= 3 && w[2].contains("(") ? "backend " + w[0] : title.replaceFirst("^postgres: ", "");
    } catch (IOException e) {
      return "gone";
    }
  }

  /**
   * Ticks of the node's threads that fall in no named role ("jvm other"), by thread name with its
   * numbering removed ({@code tokenizer-3} counts as {@code tokenizer-#}): which threads those are.
   */
  static Map<String, Long> otherThreads(long nodePid) {
    Map<String, Long> ticks = new HashMap<>();
    if (nodePid > 0) {
      threads(nodePid).forEach((name, t) -> {
        if (role(name).equals("jvm other")) {
          ticks.merge(name.replaceAll("\\d+", "#"), t, Long::sum);
        }
      });
    }
    return ticks;
  }

  /** Cores used by role between two snapshots {@code seconds} apart, largest first. */
  static Map<String, Double> cores(Map<String, Long> before, Map<String, Long> after, double seconds) {
    Map<String, Double> out = new TreeMap<>();
    after.forEach((role, t) -> out.put(role, (t - before.getOrDefault(role, 0L)) / TICKS / seconds));
    Map<String, Double> sorted = new LinkedHashMap<>();
    out.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
        .forEach(e -> sorted.put(e.getKey(), e.getValue()));
    return sorted;
  }

  /**
   * Thread name (as /proc's comm, 15 characters) to role. The engine's native compute threads are
   * created by its thread pool without a Java name and show as the process name.
   */
  static String role(String comm) {
    if (comm.startsWith("vert.x-eventloo")) {
      return "event loops";
    }
    if (comm.startsWith("vert.x-worker") || comm.startsWith("vert.x-internal")) {
      return "worker threads";
    }
    if (comm.startsWith("dsengine") || comm.equals("java")) {
      return "engine";
    }
    if (comm.startsWith("GC Thread") || comm.startsWith("G1 ") || comm.equals("VM Thread")) {
      return "gc";
    }
    if (comm.startsWith("C1 Compiler") || comm.startsWith("C2 Compiler")) {
      return "jit";
    }
    return "jvm other";
  }

  /** The whole machine's busy ticks (all CPUs; everything but idle and iowait), from /proc/stat. */
  static long machineBusy() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long busy = 0;
      for (int i = 1; i < Math.min(f.length, 9); i++) {
        if (i != 4 && i != 5) {
          busy += Long.parseLong(f[i]);
        }
      }
      return busy;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** Resident set size of a process in bytes (VmRSS), -1 where unknown. */
  static long residentBytes(long pid) {
    try {
      for (String l : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
        if (l.startsWith("VmRSS:")) {
          return Long.parseLong(l.replaceAll("\\D", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or the process is gone
    }
    return -1;
  }

  /** Thread ids of process {@code pid} whose name starts with {@code prefix}. */
  static java.util.List<String> threadIds(long pid, String prefix) {
    java.util.List<String> ids = new java.util.ArrayList<>();
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", String.valueOf(pid), "task"))) {
      for (Path task : tasks) {
        try {
          if (Files.readString(task.resolve("comm")).startsWith(prefix)) {
            ids.add(task.getFileName().toString());
          }
        } catch (IOException gone) {
          // the thread ended meanwhile
        }
      }
    } catch (IOException e) {
      // no /proc
    }
    return ids;
  }

  static double toCores(long ticks, double seconds) {
    return ticks / TICKS / seconds;
  }

  private static Map<String, Long> threads(long pid) {
    Map<String, Long> out = new HashMap<>();
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", String.valueOf(pid), "task"))) {
      for (Path task : tasks) {
        try {
          String comm = Files.readString(task.resolve("comm")).trim();
          out.merge(comm, ticks(Files.readString(task.resolve("stat"))), Long::sum);
        } catch (IOException gone) {
          // the thread ended meanwhile
        }
      }
    } catch (IOException e) {
      // no /proc
    }
    return out;
  }

  static long processTicks(long pid) {
    try {
      return ticks(Files.readString(Path.of("/proc", String.valueOf(pid), "stat")));
    } catch (IOException e) {
      return 0;
    }
  }

  /** utime + stime: fields 14 and 15 of stat, counted after the parenthesised command name. */
  private static long ticks(String stat) {
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }
}
