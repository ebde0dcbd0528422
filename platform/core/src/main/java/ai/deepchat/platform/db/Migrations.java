package ai.deepchat.platform.db;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/** Applies the SQL files of migrations/ (shipped on the classpath as db/migration) with Flyway. */
final class Migrations {

  private Migrations() {
  }

  /** Migrates to the newest version and returns how many migrations ran now. */
  public static int apply(DatabaseEndpoint owner) {
    Flyway flyway = Flyway.configure()
        .dataSource(owner.jdbcUrl(), owner.user(), owner.password())
        .locations("classpath:db/migration")
        .failOnMissingLocations(true)
        .load();
    MigrateResult result = flyway.migrate();
    return result.migrationsExecuted;
  }
}
