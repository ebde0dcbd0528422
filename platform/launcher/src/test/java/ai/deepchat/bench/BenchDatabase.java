package ai.deepchat.bench;

import ai.deepchat.platform.db.DatabaseBootstrap;
import ai.deepchat.platform.db.EmbeddedDatabase;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/** The self-hosted node's embedded PostgreSQL, reached from the bench as its superuser (loopback, its password file). */
final class BenchDatabase {

  static final String DB = "deepchat";

  private BenchDatabase() {
  }

  /** The cluster's directory under a node's DATA_DIR. */
  static Path clusterDir(String nodeDataDir) {
    return Path.of(nodeDataDir, "postgres");
  }

  static Connection connect(Path clusterDir, int port, String database) throws SQLException {
    String password = DatabaseBootstrap.readOrCreateSecret(EmbeddedDatabase.superuserPasswordFile(clusterDir));
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, "postgres", password);
  }

  /** The node's database on its running server (line 4 of postmaster.pid is the port it listens on). */
  static Connection connect(String nodeDataDir) throws Exception {
    Path dir = clusterDir(nodeDataDir);
    int port = Integer.parseInt(Files.readAllLines(dir.resolve("postmaster.pid")).get(3).trim());
    return connect(dir, port, DB);
  }

  /**
   * Statistics for every table, as autovacuum gathers them in a running installation once its tables have
   * grown (it looks once a minute): without, a fresh node's first minutes run on plans made for empty tables.
   */
  static void analyze(String nodeDataDir) throws Exception {
    try (Connection c = connect(nodeDataDir); Statement s = c.createStatement()) {
      s.execute("ANALYZE");
    }
  }
}
