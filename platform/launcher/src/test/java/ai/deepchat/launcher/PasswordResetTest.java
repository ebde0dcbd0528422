package ai.deepchat.launcher;

import ai.deepchat.platform.Platform;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.db.DatabaseBootstrap;
import ai.deepchat.platform.security.PasswordHasher;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/** The operator's way back into a console whose password is lost: reset-password on the node's real database. */
class PasswordResetTest {

  private static final String OLD = "the-demo-password-1";

  /** One seeded node database for the class: an embedded PostgreSQL start costs seconds. */
  @TempDir
  static Path dir;
  private static Map<String, String> env;

  @BeforeAll
  static void seed() {
    env = Map.of("DATA_DIR", dir.toString(), "ADMIN_PASSWORD", OLD, "HTTP_PORT", "0");
    withDatabase(ConfigLoader.load(env, new String[0]), platform -> DemoSeed.ensure(platform).orElseThrow());
  }

  @Test
  void aResetGivesANewPasswordEndsTheSessionsAndIsAudited() {
    PlatformConfig config = ConfigLoader.load(env, new String[0]);
    OffsetDateTime before = OffsetDateTime.now();

    String fresh = PasswordReset.run(config, "demo", "Admin@Demo.local"); // e-mails match as at sign-in

    Row account = withDatabase(config, platform -> Node.await(platform.database().global(c -> c
            .query("SELECT id FROM tenants WHERE slug = 'demo'").execute())
        .map(rows -> rows.iterator().next().getUUID("id"))
        .compose(tenant -> platform.database().inTenant(tenant, c -> c.query(
            "SELECT u.password_hash, u.sessions_valid_after, (SELECT actor || ' ' || action FROM audit_log a "
                + "ORDER BY a.id DESC LIMIT 1) AS audit FROM users u WHERE u.email = 'admin@demo.local'").execute()))
        .map(rows -> rows.iterator().next())));
    assertThat(PasswordHasher.verify(fresh, account.getString("password_hash"))).isTrue();
    assertThat(PasswordHasher.verify(OLD, account.getString("password_hash"))).isFalse();
    assertThat(account.getOffsetDateTime("sessions_valid_after")).as("open sessions end").isAfter(before.minusSeconds(1));
    assertThat(account.getString("audit")).isEqualTo(PasswordReset.ACTOR + " user.password_reset");
  }

  @Test
  void unknownAccountsAndBadUsageSayWhatIsWrong() {
    assertThat(PasswordReset.main(env, new String[] {"reset-password", "nowhere", "admin@demo.local"})).isEqualTo(1);
    assertThat(PasswordReset.main(env, new String[] {"reset-password", "demo", "nobody@demo.local"})).isEqualTo(1);
    assertThat(PasswordReset.main(env, new String[] {"reset-password", "demo"})).isEqualTo(2);
    assertThat(PasswordReset.main(env, new String[] {"reset-password", "demo", "a@b", "--http-port=x"})).isEqualTo(2);
  }

  /** The node's database (as the app role, confined to a tenant like the node), closed after {@code work}. */
  private static <T> T withDatabase(PlatformConfig config, Function<Platform, T> work) {
    Vertx vertx = Vertx.vertx();
    DatabaseBootstrap db = DatabaseBootstrap.start(vertx, config, Duration.ZERO);
    try {
      return work.apply(new Platform(config, db.database(), "local"));
    } finally {
      db.close();
      Node.await(vertx.close());
    }
  }
}
