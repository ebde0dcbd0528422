package ai.deepchat.launcher;

import ai.deepchat.platform.Platform;
import ai.deepchat.platform.security.PasswordHasher;
import io.vertx.core.Future;
import io.vertx.sqlclient.Tuple;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;
import java.util.UUID;

/**
 * First start of the embedded default: a demo tenant with an owner account and a demo knowledge base.
 * Idempotent: a tenant that already exists is left as it is.
 */
final class DemoSeed {

  private DemoSeed() {
  }

  /** Returns the generated admin password when the tenant was created now without a configured one. */
  static Optional<String> ensure(Platform platform) {
    var seed = platform.config().seed();
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
    Node.await(platform.database().inTenant(tenantId, c -> c
        .preparedQuery("INSERT INTO tenant_settings (tenant_id, system_prompt) VALUES ($1, $2)")
        .execute(Tuple.of(tenantId, "You are the helpful assistant of Demo Company. Answer briefly and "
            + "cite the knowledge base when you use it."))
        .compose(x -> c.preparedQuery("INSERT INTO users (tenant_id, email, display_name, password_hash, role) "
            + "VALUES ($1, $2, 'Demo Admin', $3, 'owner')").execute(Tuple.of(tenantId, seed.adminEmail(), hash)))
        .compose(x -> c.preparedQuery("INSERT INTO knowledge_bases (tenant_id, name, description) "
            + "VALUES ($1, 'Demo knowledge base', 'Product documentation of the demo tenant')")
            .execute(Tuple.of(tenantId)))
        .map(x -> (Void) null)));
    return seed.adminPassword().isPresent() ? Optional.empty() : Optional.of(password);
  }

  private static String randomPassword() {
    byte[] bytes = new byte[9];
    new SecureRandom().nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }
}
