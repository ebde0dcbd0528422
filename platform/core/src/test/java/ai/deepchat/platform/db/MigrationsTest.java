package ai.deepchat.platform.db;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.ResultSet;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class MigrationsTest {

  @Test
  void migratesAnEmptyDatabaseAndIsIdempotent(Vertx vertx) throws Exception {
    TestDatabase db = TestDatabase.fresh(vertx);
    Set<String> tables = new HashSet<>();
    try (var c = db.ownerJdbc(); ResultSet rs = c.createStatement().executeQuery(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")) {
      while (rs.next()) {
        tables.add(rs.getString(1));
      }
    }
    assertThat(tables).contains("tenants", "users", "api_keys", "conversations", "messages",
        "knowledge_bases", "documents", "chunks", "model_versions", "rollouts", "audit_log");
    // a second run applies nothing
    assertThat(Migrations.apply(db.owner())).isZero();
  }
}
