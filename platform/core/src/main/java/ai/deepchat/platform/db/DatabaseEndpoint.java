package ai.deepchat.platform.db;

import ai.deepchat.platform.config.ConfigException;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/** Where a PostgreSQL server is and who connects to it, from a postgres:// URL or the embedded server. */
public record DatabaseEndpoint(String host, int port, String database, String user, String password) {

  public static DatabaseEndpoint fromUrl(String url) {
    URI uri = URI.create(url);
    String user = "postgres";
    String password = "";
    if (uri.getRawUserInfo() != null) {
      String[] parts = uri.getRawUserInfo().split(":", 2);
      user = decode(parts[0]);
      password = parts.length > 1 ? decode(parts[1]) : "";
    }
    String path = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
    if (path.isEmpty()) {
      throw new ConfigException("DATABASE_URL", "names no database (postgres://user:pass@host:5432/dbname)");
    }
    return new DatabaseEndpoint(uri.getHost(), uri.getPort() > 0 ? uri.getPort() : 5432, path, user, password);
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://" + host + ":" + port + "/" + database;
  }

  public DatabaseEndpoint as(String otherUser, String otherPassword) {
    return new DatabaseEndpoint(host, port, database, otherUser, otherPassword);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }
}
