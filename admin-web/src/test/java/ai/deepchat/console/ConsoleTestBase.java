package ai.deepchat.console;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static ai.deepchat.platform.testing.Await.await;

/**
 * One console per test class over real HTTP and a fresh database ({@link ConsoleHarness}), started
 * before the class's first test and closed after its last. Test classes run one at a time, so the
 * statics belong to the class that is running.
 */
abstract class ConsoleTestBase {

  @TempDir
  static Path dataDir;
  static Vertx vertx;
  static ConsoleHarness h;

  @BeforeAll
  static void startConsole() throws Exception {
    vertx = Vertx.vertx();
    h = ConsoleHarness.start(vertx, dataDir);
  }

  @AfterAll
  static void stopConsole() throws Exception {
    await(vertx.close());
  }
}
