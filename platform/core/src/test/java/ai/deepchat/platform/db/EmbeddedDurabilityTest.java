package ai.deepchat.platform.db;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The embedded PostgreSQL is the default production database, so it runs with PostgreSQL's durability
 * settings, not the test-speed ones zonky starts it with (no fsync, asynchronous commit).
 */
class EmbeddedDurabilityTest {

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
  void commitsReachTheDiskBeforeTheyAreAcknowledged() throws Exception {
    try (Connection c = db.ownerJdbc(); Statement st = c.createStatement()) {
      assertThat(setting(st, "fsync")).isEqualTo("on");
      assertThat(setting(st, "synchronous_commit")).isEqualTo("on");
      assertThat(setting(st, "full_page_writes")).isEqualTo("on");
    }
  }

  private static String setting(Statement st, String name) throws Exception {
    try (ResultSet rs = st.executeQuery("SHOW " + name)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
