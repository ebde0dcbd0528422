package ai.deepchat.launcher;

import ai.deepchat.platform.Platform;
import ai.deepchat.platform.security.PasswordHasher;
import ai.deepchat.platform.security.TenantKeys;
import ai.deepchat.rag.Rag;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.Future;
import io.vertx.sqlclient.Tuple;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * First start of the embedded default: a demo tenant with an owner account and a demo knowledge base.
 * Idempotent: a tenant that already exists is left as it is.
 */
final class DemoSeed {

  private DemoSeed() {
  }

  /** What a first start created and shows once: the owner's password (when generated) and an API key. */
  record Created(Optional<String> generatedPassword, String apiKey, String widgetKey) {
  }

  /** Creates the demo tenant when missing; empty when it already existed. */
  static Optional<Created> ensure(Platform platform) {
    var seed = platform.config().seed();
    int port = platform.config().http().port();
    Boolean exists = Node.await(platform.database().global(c -> c
        .preparedQuery("SELECT 1 FROM tenants WHERE slug = $1").execute(Tuple.of(seed.tenantSlug()))
        .map(rows -> rows.size() > 0)));
    if (exists) {
      return Optional.empty();
    }
    String password = seed.adminPassword().orElseGet(DemoSeed::randomPassword);
    String hash = PasswordHasher.hash(password);

    UUID tenantId = Node.await(platform.database().global(c -> c
        .preparedQuery("INSERT INTO tenants (slug, name) VALUES ($1, $2) RETURNING id")
        .execute(Tuple.of(seed.tenantSlug(), "Demo Company"))
        .map(rows -> rows.iterator().next().getUUID(0))));
    String widgetKey = TenantKeys.newWidgetKey(tenantId);
    TenantKeys.NewApiKey apiKey = TenantKeys.newApiKey(tenantId);
    Node.await(platform.database().inTenant(tenantId, c -> c
        .preparedQuery("INSERT INTO tenant_settings (tenant_id, system_prompt) VALUES ($1, $2)")
        .execute(Tuple.of(tenantId, "You are the helpful assistant of Demo Company. Answer briefly and "
            + "cite the knowledge base when you use it."))
        .compose(x -> c.preparedQuery("INSERT INTO users (tenant_id, email, display_name, password_hash, role) "
            + "VALUES ($1, $2, 'Demo Admin', $3, 'owner')").execute(Tuple.of(tenantId, seed.adminEmail(), hash)))
        .compose(x -> c.preparedQuery("INSERT INTO knowledge_bases (tenant_id, name, description) "
            + "VALUES ($1, 'Demo knowledge base', 'Product documentation of the demo tenant')")
            .execute(Tuple.of(tenantId)))
        .compose(x -> c.preparedQuery("INSERT INTO faq_entries (tenant_id, question, answer) VALUES ($1, $2, $3)")
            .executeBatch(demoFaqs().stream().map(f -> Tuple.of(tenantId, f[0], f[1])).toList()))
        .compose(x -> c.preparedQuery("INSERT INTO widget_settings (tenant_id, public_key, allowed_origins, title) "
            + "VALUES ($1, $2, $3, 'Demo Company')").execute(Tuple.of(tenantId, widgetKey,
            new String[] {"http://localhost:" + port, "http://127.0.0.1:" + port})))
        .compose(x -> c.preparedQuery("INSERT INTO api_keys (tenant_id, name, key_prefix, key_hash) "
            + "VALUES ($1, 'Demo key', $2, $3)").execute(Tuple.of(tenantId, apiKey.prefix(), apiKey.hash())))
        .map(x -> (Void) null)));
    return Optional.of(new Created(seed.adminPassword().isPresent() ? Optional.empty() : Optional.of(password),
        apiKey.plaintext(), widgetKey));
  }

  static String randomPassword() {
    byte[] bytes = new byte[9];
    new SecureRandom().nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }

  /**
   * Gives the demo knowledge base its help-center document (once) and makes it the tenant's default, so
   * knowledge answers with citations work out of the box. Ingestion runs in the background.
   */
  static Future<Void> ensureDemoDocument(Platform platform, Rag rag) {
    var db = platform.database();
    return db.global(c -> c.preparedQuery("SELECT id FROM tenants WHERE slug = $1")
            .execute(Tuple.of(platform.config().seed().tenantSlug())))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture();
          }
          UUID tenantId = rows.iterator().next().getUUID(0);
          return db.inTenant(tenantId, c -> c.query("SELECT kb.id, (SELECT count(*) FROM documents d "
                  + "WHERE d.knowledge_base_id = kb.id) AS docs FROM knowledge_bases kb "
                  + "WHERE kb.name = 'Demo knowledge base'").execute())
              .compose(kbs -> {
                if (kbs.size() == 0 || kbs.iterator().next().getLong("docs") > 0) {
                  return Future.succeededFuture();
                }
                UUID kbId = kbs.iterator().next().getUUID("id");
                return db.inTenant(tenantId, c -> c.preparedQuery("UPDATE tenant_settings SET "
                        + "default_knowledge_base_id = $1 WHERE default_knowledge_base_id IS NULL")
                        .execute(Tuple.of(kbId)))
                    .compose(x -> rag.knowledgeBases().upload(tenantId, kbId, "help-center.md",
                        Buffer.buffer(demoDocument())))
                    .mapEmpty();
              });
        });
  }

  private static byte[] demoDocument() {
    return resource("demo-knowledge.md");
  }

  /**
   * The demo FAQ entries, question and answer ({@code demo-faqs.tsv}: one a line, tab-separated); the
   * labelled routing set in verticles' tests asks their paraphrases.
   */
  static List<String[]> demoFaqs() {
    return new String(resource("demo-faqs.tsv"), StandardCharsets.UTF_8).lines()
        .filter(l -> !l.isBlank()).map(l -> l.split("\t", 2)).toList();
  }

  private static byte[] resource(String name) {
    try (var in = DemoSeed.class.getResourceAsStream(name)) {
      return in.readAllBytes();
    } catch (java.io.IOException | NullPointerException e) {
      throw new IllegalStateException(name + " missing from the launcher jar", e);
    }
  }
}
