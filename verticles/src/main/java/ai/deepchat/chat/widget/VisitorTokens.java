package ai.deepchat.chat.widget;

import ai.deepchat.chat.api.HttpProblem;
import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.db.DatabaseBootstrap;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

import java.util.List;
import java.util.UUID;

/**
 * Visitor tokens: HS256 JWTs (iss "deepchat", aud "widget", 30 days) naming the tenant and an anonymous
 * visitor id. Issuer and audience are set in JWTOptions so vertx-auth-jwt checks them, and tokens
 * without {@code exp} are refused (the library would accept them). The secret is JWT_SECRET, or one
 * generated once into the data directory.
 */
public final class VisitorTokens {

  public static final String ISSUER = "deepchat";
  public static final String AUDIENCE = "widget";
  public static final int LIFETIME_SECONDS = 30 * 24 * 3600;

  public record Visitor(UUID tenantId, String visitorId) {
  }

  private final JWTAuth jwt;

  /** Reads (or first creates) the secret: blocking, call at start-up. */
  public VisitorTokens(Vertx vertx, PlatformConfig config) {
    this(vertx, secret(config));
  }

  /** Cheap (no I/O): one per gateway instance, so token checks of different event loops share no lock. */
  public VisitorTokens(Vertx vertx, String secret) {
    JWTOptions options = new JWTOptions().setAlgorithm("HS256").setIssuer(ISSUER).setAudience(List.of(AUDIENCE))
        .setExpiresInSeconds(LIFETIME_SECONDS).setLeeway(5);
    this.jwt = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret))
        .setJWTOptions(options));
  }

  /** JWT_SECRET, else the one generated once under DATA_DIR/secrets. Blocking (a file). */
  public static String secret(PlatformConfig config) {
    return config.chat().jwtSecret().orElseGet(() ->
        DatabaseBootstrap.readOrCreateSecret(config.dataDir().resolve("secrets").resolve("jwt-secret")));
  }

  public String issue(UUID tenantId, String visitorId) {
    return jwt.generateToken(new JsonObject().put("tenant", tenantId.toString()).put("vid", visitorId));
  }

  /** The visitor a token names; a 401 problem for anything not issued by us, expired, or without exp. */
  public Future<Visitor> verify(String token) {
    if (token == null || token.isBlank() || token.length() > 4096) {
      return Future.failedFuture(unauthorized());
    }
    return jwt.authenticate(new TokenCredentials(token))
        .recover(err -> Future.failedFuture(unauthorized()))
        .compose(user -> {
          // the decoded payload; principal() drops the time claims
          JsonObject claims = user.attributes().getJsonObject("accessToken", new JsonObject());
          Object exp = claims.getValue("exp");
          Object tenant = claims.getValue("tenant");
          Object vid = claims.getValue("vid");
          if (!(exp instanceof Number) || !(tenant instanceof String t) || !(vid instanceof String v) || v.isBlank()) {
            return Future.failedFuture(unauthorized());
          }
          try {
            return Future.succeededFuture(new Visitor(UUID.fromString(t), v));
          } catch (IllegalArgumentException e) {
            return Future.failedFuture(unauthorized());
          }
        });
  }

  private static HttpProblem unauthorized() {
    return new HttpProblem(401, "authentication_error", "invalid_visitor_token",
        "The visitor token is missing, invalid or expired; start a new session.");
  }
}
