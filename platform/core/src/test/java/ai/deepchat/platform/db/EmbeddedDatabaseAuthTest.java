package ai.deepchat.platform.db;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Nobody logs in to the embedded server without its password (issue #14 item 1): not the superuser
 * over TCP, not anyone through a Unix socket; and a data directory made by an older version, which
 * trusted every local login, is brought to the same rules on start with its rows intact.
 */
class EmbeddedDatabaseAuthTest {

  @TempDir
  static Path dir;
  static EmbeddedDatabase pg;

  @BeforeAll
  static void start() {
    pg = EmbeddedDatabase.start(dir.resolve("postgres"), 0);
  }

  @AfterAll
  static void stop() {
    pg.close();
  }

  static Connection login(int port, String user, String password) throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", user);
    if (password != null) {
      props.setProperty("password", password);
    }
    props.setProperty("connectTimeout", "5");
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", props);
  }

  static void assertRefused(int port) {
    assertThatThrownBy(() -> login(port, "postgres", null).close())
        .isInstanceOf(SQLException.class).hasMessageContaining("password");
    // the password every fixture used while the server trusted local logins
    assertThatThrownBy(() -> login(port, "postgres", "postgres").close())
        .isInstanceOf(SQLException.class).hasMessageContaining("password authentication failed");
  }

  static List<String> column(Connection c, String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  @Test
  void theSuperuserWithoutItsPasswordIsRefused() {
    assertRefused(pg.port());
  }

  @Test
  void everyLoginNeedsScramOverLoopbackAndThereIsNoUnixSocket() throws Exception {
    try (Connection c = DatabaseBootstrap.jdbc(pg.ownerEndpoint())) {
      assertThat(column(c, "SELECT DISTINCT auth_method FROM pg_hba_file_rules")).containsExactly("scram-sha-256");
      assertThat(column(c, "SELECT rolpassword FROM pg_authid WHERE rolname = 'postgres'"))
          .singleElement().asString().startsWith("SCRAM-SHA-256$");
      assertThat(column(c, "SHOW unix_socket_directories")).containsExactly("");
      assertThat(column(c, "SHOW listen_addresses")).containsExactly("127.0.0.1");
      assertThat(column(c, "SHOW password_encryption")).containsExactly("scram-sha-256");
    }
  }

  @Test
  void thePasswordIsKeptOwnerOnlyOutsideTheDataDirectory() throws Exception {
    Path file = EmbeddedDatabase.superuserPasswordFile(dir.resolve("postgres"));
    assertThat(file).isEqualTo(dir.resolve("secrets").resolve("db-superuser-password"));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent()))).isEqualTo("rwx------");
    assertThat(Files.readString(file)).isEqualTo(pg.ownerEndpoint().password()).hasSize(32);
  }

  @Test
  void aLostPasswordFileIsNamedWhenTheServerRefusesTheNewOne(@TempDir Path other) throws Exception {
    Path data = other.resolve("postgres");
    EmbeddedDatabase.start(data, 0).close();
    Files.delete(EmbeddedDatabase.superuserPasswordFile(data)); // a new one is generated, the cluster keeps the old
    assertThatThrownBy(() -> EmbeddedDatabase.start(data, 0).close())
        .hasMessageContaining(EmbeddedDatabase.superuserPasswordFile(data).toString());
    assertThat(data.resolve("postmaster.pid")).as("the server it started is stopped again").doesNotExist();
  }

  @Test
  void aDataDirectoryOfAnOlderVersionIsMigratedWithItsRows(@TempDir Path old) throws Exception {
    Path data = old.resolve("postgres");
    // what older versions ran: zonky's defaults, trust for every local login, no superuser password
    try (EmbeddedPostgres before = EmbeddedPostgres.builder().setDataDirectory(data).setCleanDataDirectory(false).start();
         Connection c = before.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE kept (v text)");
      s.execute("INSERT INTO kept VALUES ('row from the old version')");
    }
    for (int start = 0; start < 2; start++) { // the second start finds it migrated already
      try (EmbeddedDatabase now = EmbeddedDatabase.start(data, 0)) {
        assertRefused(now.port());
        try (Connection c = DatabaseBootstrap.jdbc(now.ownerEndpoint())) {
          assertThat(column(c, "SELECT v FROM kept")).containsExactly("row from the old version");
          assertThat(column(c, "SELECT DISTINCT auth_method FROM pg_hba_file_rules")).containsExactly("scram-sha-256");
        }
      }
    }
  }
}
