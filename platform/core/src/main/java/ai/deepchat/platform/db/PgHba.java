package ai.deepchat.platform.db;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * The embedded server's pg_hba.conf, rewritten before every start: password (SCRAM) logins over IPv4
 * loopback only, nothing else. The server has no Unix socket (see {@link EmbeddedDatabase}), so no
 * "local" line is needed.
 *
 * <p>Data directories made by older versions were initialised with trust for every local login and a
 * superuser without a password. Such a directory gets, for one start, a file that trusts only the
 * superuser over loopback, long enough for it to be given its password; then the final file.
 */
final class PgHba {

  static final String FILE = "pg_hba.conf";

  static final String SCRAM_ONLY = """
      # Written by DeepChat at every start; edits here are replaced.
      # Every login needs its password (SCRAM); the server listens on 127.0.0.1 only and has no Unix socket.
      # TYPE  DATABASE  USER  ADDRESS       METHOD
      host    all       all   127.0.0.1/32  scram-sha-256
      """;

  /** One start of an old data directory: only the superuser, only loopback, until it has a password. */
  private static final String SET_PASSWORD_ONCE = """
      # Written by DeepChat for one start: the superuser is given its password, then this file is replaced.
      host    all       postgres  127.0.0.1/32  trust
      """;

  /** An active (uncommented) line of an older file that lets someone in without a password. */
  private static final Pattern TRUST = Pattern.compile("(?m)^[^#\\n]*\\btrust\\b");

  private PgHba() {
  }

  /**
   * Writes the file for the next start of {@code dataDir} and says whether the superuser must first be
   * given its password: true for a directory whose file trusted logins (made by an older version, or the
   * interrupted first start that was setting the password).
   */
  static boolean prepare(Path dataDir) {
    Path file = dataDir.resolve(FILE);
    try {
      boolean passwordless = Files.exists(file) && TRUST.matcher(Files.readString(file)).find();
      Files.writeString(file, passwordless ? SET_PASSWORD_ONCE : SCRAM_ONLY);
      return passwordless;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /** The final file, once the superuser has its password. */
  static void requirePasswords(Path dataDir) {
    try {
      Files.writeString(dataDir.resolve(FILE), SCRAM_ONLY);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dataDir.resolve(FILE), e);
    }
  }
}
