package ai.deepchat.platform.db;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Nodes starting together against one database each give the application role its login. */
class AppLoginTest {

  private static Vertx vertx;
  private static TestDatabase db;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    db = TestDatabase.fresh(vertx);
  }

  @AfterAll
  static void stop() {
    vertx.close();
  }

  @Test
  void nodesStartingTogetherAllGiveTheLogin(@TempDir Path dir) throws Exception {
    ExecutorService nodes = Executors.newFixedThreadPool(8);
    try {
      for (int round = 0; round < 10; round++) {
        List<Future<String>> starting = new ArrayList<>();
        for (int n = 0; n < 8; n++) {
          Path dataDir = dir.resolve(round + "-" + n);
          starting.add(nodes.submit(() -> DatabaseBootstrap.appPassword(db.owner(), Optional.empty(), dataDir)));
        }
        for (Future<String> node : starting) {
          assertThat(node.get(30, TimeUnit.SECONDS)).hasSize(32);
        }
      }
    } finally {
      nodes.shutdownNow();
    }
  }
}
