package ai.deepchat.bench;

import ai.deepchat.platform.db.EmbeddedDatabase;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@code bench/load --pg-statements true}: where the node's PostgreSQL time goes, per statement. Before
 * the node starts, its embedded cluster is initialised here with pg_stat_statements preloaded (statements
 * inside functions and triggers too, planning timed) and PL/pgSQL functions counted; over each measured
 * window the counters are reset and then read, per answer. The extension costs PostgreSQL CPU of its own,
 * so CPU figures of such a run are not compared with runs without it.
 */
final class PgStatements {

  private static final String DB = BenchDatabase.DB;
  private final Path dataDir;
  private final Consumer<String> out;
  private long walRecords;
  private long walBytes;
  private long walSyncs;
  private long commits;
  private java.util.Map<String, Long> processTicks = java.util.Map.of();
  private long startedNanos;

  private PgStatements(Path dataDir, Consumer<String> out) {
    this.dataDir = dataDir;
    this.out = out;
  }

  /** Initialises the cluster under {@code nodeDataDir}/postgres with the extension loaded, and stops it. */
  static PgStatements prepare(String nodeDataDir, Consumer<String> out) throws Exception {
    Path dir = BenchDatabase.clusterDir(nodeDataDir);
    try (EmbeddedDatabase db = EmbeddedDatabase.start(dir, 0);
        Connection c = BenchDatabase.connect(dir, db.port(), "postgres"); Statement s = c.createStatement()) {
      s.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
      s.execute("ALTER SYSTEM SET track_functions = 'pl'");
    }
    // the extension's own settings are unknown to ALTER SYSTEM until it is preloaded: written with the server down
    Files.writeString(dir.resolve("postgresql.auto.conf"), "pg_stat_statements.track = 'all'\n"
        + "pg_stat_statements.track_planning = on\npg_stat_statements.max = 10000\n", StandardOpenOption.APPEND);
    return new PgStatements(dir, out);
  }

  private Connection connect() throws Exception {
    return BenchDatabase.connect(dataDir.getParent().toString());
  }

  /** At the start of a window: zero the statement and function counters, remember WAL and commits. */
  void reset() {
    try (Connection c = connect(); Statement s = c.createStatement()) {
      s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
      s.execute("SELECT pg_stat_statements_reset(), pg_stat_reset()");
      try (ResultSet r = s.executeQuery("SELECT wal_records, wal_bytes, wal_sync FROM pg_stat_wal")) {
        r.next();
        walRecords = r.getLong(1);
        walBytes = r.getLong(2);
        walSyncs = r.getLong(3);
      }
      commits = xactCommit(s);
      processTicks = CpuAccount.postgresByProcess(dataDir.getParent().toString());
      startedNanos = System.nanoTime();
    } catch (Exception e) {
      out.accept("  pg-statements: reset failed: " + e);
    }
  }

  private static long xactCommit(Statement s) throws SQLException {
    try (ResultSet r = s.executeQuery("SELECT xact_commit FROM pg_stat_database WHERE datname = '" + DB + "'")) {
      r.next();
      return r.getLong(1);
    }
  }

  /** At the end of a window: per answer, each statement's calls, times, rows and WAL; functions; WAL; tables. */
  void report(long answers) {
    double a = Math.max(1, answers);
    java.util.Map<String, Long> ticksAfter = CpuAccount.postgresByProcess(dataDir.getParent().toString());
    double seconds = (System.nanoTime() - startedNanos) / 1e9;
    try (Connection c = connect(); Statement s = c.createStatement()) {
      Thread.sleep(1200); // backends report their function and table counts at most every 500 ms once idle
      long xacts = xactCommit(s);
      List<String> lines = new ArrayList<>();
      lines.add(String.format("  pg-statements over the window, per answer (%d answers, %.2f commits per answer):", answers,
          (xacts - commits) / a));
      lines.add("    calls/ans | exec ms mean | exec us/ans | plan ms mean | plans/ans | rows/call | wal B/ans | top | query");
      double execSum = 0;
      double planSum = 0;
      double callSum = 0;
      try (ResultSet r = s.executeQuery("SELECT calls, mean_exec_time, total_exec_time, mean_plan_time,"
          + " total_plan_time, plans, rows, wal_bytes, toplevel, regexp_replace(query, '\\s+', ' ', 'g')"
          + " FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '" + DB + "')"
          + " ORDER BY total_exec_time + total_plan_time DESC")) {
        while (r.next()) {
          long calls = r.getLong(1);
          execSum += r.getDouble(3);
          planSum += r.getDouble(5);
          if (r.getBoolean(9)) {
            callSum += calls;
          }
          if (calls / a < 0.005) {
            continue;
          }
          String q = r.getString(10);
          lines.add(String.format("    %9.3f | %12.4f | %11.1f | %12.4f | %9.3f | %9.2f | %9.0f | %s | %s", calls / a,
              r.getDouble(2), 1000 * r.getDouble(3) / a, r.getDouble(4), r.getLong(6) / a,
              calls == 0 ? 0.0 : (double) r.getLong(7) / calls, r.getDouble(8) / a, r.getBoolean(9) ? "y" : "n",
              q.length() > 160 ? q.substring(0, 160) + "..." : q));
        }
      }
      lines.add(String.format("    sums per answer: top-level statements %.2f, exec %.0f us (nested counted twice),"
          + " plan %.0f us", callSum / a, 1000 * execSum / a, 1000 * planSum / a));
      try (ResultSet r = s.executeQuery("SELECT schemaname || '.' || funcname, calls, total_time, self_time"
          + " FROM pg_stat_user_functions ORDER BY total_time DESC")) {
        while (r.next()) {
          lines.add(String.format("    function %s: %.3f calls/ans, total %.1f us/ans, self %.1f us/ans", r.getString(1),
              r.getLong(2) / a, 1000 * r.getDouble(3) / a, 1000 * r.getDouble(4) / a));
        }
      }
      try (ResultSet r = s.executeQuery("SELECT wal_records, wal_bytes, wal_sync FROM pg_stat_wal")) {
        r.next();
        lines.add(String.format("    wal: %.1f records/ans, %.0f bytes/ans, %.3f syncs (flushes)/ans",
            (r.getLong(1) - walRecords) / a, (r.getLong(2) - walBytes) / a, (r.getLong(3) - walSyncs) / a));
      }
      try (ResultSet r = s.executeQuery("SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del, seq_scan,"
          + " idx_scan FROM pg_stat_user_tables WHERE n_tup_ins + n_tup_upd + n_tup_del + seq_scan"
          + " + coalesce(idx_scan, 0) > 0 ORDER BY n_tup_ins + n_tup_upd DESC")) {
        while (r.next()) {
          lines.add(String.format("    table %s per answer: ins %.2f upd %.2f (hot %.2f) del %.2f seq scans %.2f idx scans %.2f",
              r.getString(1), r.getLong(2) / a, r.getLong(3) / a, r.getLong(4) / a, r.getLong(5) / a, r.getLong(6) / a,
              r.getLong(7) / a));
        }
      }
      StringBuilder cpu = new StringBuilder();
      CpuAccount.cores(processTicks, ticksAfter, seconds).forEach((kind, cores) -> {
        if (cores > 0) {
          cpu.append(String.format("%s %.0f us, ", kind, 1e6 * cores * seconds / a));
        }
      });
      lines.add("    postgres cpu per answer by process: " + cpu);
      lines.forEach(out);
    } catch (Exception e) {
      out.accept("  pg-statements: report failed: " + e);
    }
  }
}
