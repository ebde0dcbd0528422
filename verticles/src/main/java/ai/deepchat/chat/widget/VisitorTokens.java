package ai.deepchat.chat.widget;

import ai.deepchat.chat.api.HttpProblem;
import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.security.JwtSecret;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.UUID;

/**
 * Visitor tokens: HS256 JWTs (iss "deepchat", aud "widget", 30 days) naming the tenant, an anonymous
 * visitor id and the widget key they were issued under ("wk", a tag of the key: rotating the key ends
 * them, see {@link VisitorGate}). Issuer and audience are set in JWTOptions so vertx-auth-jwt checks
 * them, and tokens without a numeric {@code exp} are refused (the library would accept them). The
 * secret is JWT_SECRET, or one generated once into the data directory.
 */
public final class VisitorTokens {

  public static final String ISSUER = "deepchat";
  public static final String AUDIENCE = "widget";
  public static final int LIFETIME_SECONDS = 30 * 24 * 3600;

  /** {@code keyTag}: {@link #keyTag} of the widget key the token was issued under. */
  public record Visitor(UUID tenantId, String visitorId, String keyTag) {
  }

  private final JWTAuth jwt;

  /** Reads (or first creates) the secret: blocking, call at start-up. */
  public VisitorTokens(Vertx vertx, PlatformConfig config) {
    this(vertx, JwtSecret.resolve(config));
  }

  /** Cheap (no I/O): one per gateway instance, so token checks of different event loops share no lock. */
  public VisitorTokens(Vertx vertx, String secret) {
    JWTOptions options = new JWTOptions().setAlgorithm("HS256").setIssuer(ISSUER).setAudience(List.of(AUDIENCE))
        .setExpiresInSeconds(LIFETIME_SECONDS).setLeeway(5);
    this.jwt = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret))
        .setJWTOptions(options));
  }

  public String issue(UUID tenantId, String visitorId, String widgetKey) {
    return jwt.generateToken(new JsonObject().put("tenant", tenantId.toString()).put("vid", visitorId)
        .put("wk", keyTag(widgetKey)));
  }

  /** A short digest of a widget key: names the key's generation without putting the key in the token. */
  public static String keyTag(String widgetKey) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(widgetKey.strip().getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(digest, 12));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The visitor a token names; a 401 problem for anything not issued by us, expired, or without exp. */
  public Future<Visitor> verify(String token) {
    if (token == null || token.isBlank() || token.length() > 4096) {
      return Future.failedFuture(unauthorized());
    }
    Future<io.vertx.ext.auth.User> user;
    try {
      user = jwt.authenticate(new TokenCredentials(token));
    } catch (RuntimeException malformed) {
      // vertx-auth-jwt throws, rather than fails, on some well-signed but malformed claims (a string exp)
      return Future.failedFuture(unauthorized());
    }
    return user
        .recover(err -> Future.failedFuture(unauthorized()))
        .compose(u -> {
          // the decoded payload; principal() drops the time claims
          JsonObject claims = u.attributes().getJsonObject("accessToken", new JsonObject());
          Object exp = claims.getValue("exp");
          Object tenant = claims.getValue("tenant");
          Object vid = claims.getValue("vid");
          Object wk = claims.getValue("wk");
          if (!(exp instanceof Number) || !(tenant instanceof String t) || !(vid instanceof String v) || v.isBlank()
              || !(wk instanceof String k)) {
            return Future.failedFuture(unauthorized());
          }
          try {
            return Future.succeededFuture(new Visitor(UUID.fromString(t), v, k));
          } catch (IllegalArgumentException e) {
            return Future.failedFuture(unauthorized());
          }
        });
  }

  static HttpProblem unauthorized() {
    return new HttpProblem(401, "authentication_error", "invalid_visitor_token",
        "The visitor token is missing, invalid or expired; start a new session.");
  }
}
