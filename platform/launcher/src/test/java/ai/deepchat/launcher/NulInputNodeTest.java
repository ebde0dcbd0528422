package ai.deepchat.launcher;

import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.security.TenantKeys;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * U+0000 on every route of a whole node that can carry it to a PostgreSQL text column (the
 * knowledge-base API's JSON bodies and upload file names, the console's search, query parameters):
 * 400, never the 500 PostgreSQL's refusal used to become, and nothing stored.
 */
class NulInputNodeTest {

  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> send(int port, String method, String path, String key, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (key != null) {
      b.header("Authorization", "Bearer " + key).header("Content-Type", "application/json");
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void nulInKnowledgeBaseBodiesFileNamesAndSearchesGets400(@TempDir Path dir) throws Exception {
    try (Node node = Node.start(ConfigLoader.load(Map.of("DATA_DIR", dir.toString(), "HTTP_HOST", "127.0.0.1",
        "HTTP_PORT", "0", "SEED_DEMO", "false", "ROLES", "gateway"), new String[0]))) {
      int port = node.httpPort();
      var db = node.platform().database();
      UUID tenant = Node.await(db.global(c -> c.preparedQuery("INSERT INTO tenants (slug, name) VALUES ('nul-co', 'Nul')"
          + " RETURNING id").execute().map(rows -> rows.iterator().next().getUUID(0))));
      var key = TenantKeys.newApiKey(tenant);
      Node.await(db.inTenant(tenant, c -> c.preparedQuery("INSERT INTO api_keys (tenant_id, name, key_prefix, key_hash)"
          + " VALUES ($1, 'test', $2, $3)").execute(Tuple.of(tenant, key.prefix(), key.hash()))));
      String api = key.plaintext();

      HttpResponse<String> created = send(port, "POST", "/v1/knowledge-bases", api,
          new JsonObject().put("name", "Manuals").encode());
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
      String kb = new JsonObject(created.body()).getString("id");

      HttpResponse<String> name = send(port, "POST", "/v1/knowledge-bases", api,
          new JsonObject().put("name", "bad\u0000name").encode());
      assertThat(name.statusCode()).as(name.body()).isEqualTo(400);
      HttpResponse<String> search = send(port, "POST", "/v1/knowledge-bases/" + kb + "/search", api,
          new JsonObject().put("query", "where\u0000is it").encode());
      assertThat(search.statusCode()).as(search.body()).isEqualTo(400);
      HttpResponse<String> upload = send(port, "POST", "/v1/knowledge-bases/" + kb + "/documents?filename=a%00.md", api,
          "# Title\n\nText.");
      assertThat(upload.statusCode()).as(upload.body()).isEqualTo(400);
      String multipart = "--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\u0000.md\"\r\n"
          + "Content-Type: text/markdown\r\n\r\n# Title\n\nText.\n\r\n--b0undary--\r\n";
      HttpResponse<String> named = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
              + "/v1/knowledge-bases/" + kb + "/documents")).header("Authorization", "Bearer " + api)
          .header("Content-Type", "multipart/form-data; boundary=b0undary")
          .POST(HttpRequest.BodyPublishers.ofString(multipart)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(named.statusCode()).as(named.body()).isEqualTo(400);
      for (String path : List.of("/console/conversations?q=a%00b", "/console/audit?actor=%00")) {
        HttpResponse<String> console = send(port, "GET", path, null, null);
        assertThat(console.statusCode()).as(path).isEqualTo(400);
      }

      long bases = Node.await(db.inTenant(tenant, c -> c.query("SELECT count(*) FROM knowledge_bases").execute()
          .map(rows -> rows.iterator().next().getLong(0))));
      long documents = Node.await(db.inTenant(tenant, c -> c.query("SELECT count(*) FROM documents").execute()
          .map(rows -> rows.iterator().next().getLong(0))));
      assertThat(bases).isEqualTo(1);
      assertThat(documents).isZero();
    }
  }
}
