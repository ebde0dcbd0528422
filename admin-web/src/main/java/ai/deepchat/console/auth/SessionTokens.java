package ai.deepchat.console.auth;

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
 * Console session tokens: HS256 JWTs with iss "deepchat", aud "console" and an 8-hour expiry.
 * vertx-auth-jwt checks iss/aud only when configured and accepts tokens without exp, so both are
 * configured here and a token lacking exp (or iat) is refused explicitly.
 */
public final class SessionTokens {

  public static final String ISSUER = "deepchat";
  public static final String AUDIENCE = "console";
  public static final int LIFETIME_MINUTES = 8 * 60;

  /** What a valid token says; the caller re-reads the account before trusting the role. */
  public record Claims(String jti, UUID subject, UUID tenantId, boolean superAdmin, long issuedAtMillis) {
  }

  private final JWTAuth auth;

  public SessionTokens(Vertx vertx, String secret) {
    if (secret == null || secret.isBlank()) {
      throw new IllegalArgumentException("a JWT secret is required");
    }
    this.auth = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret))
        .setJWTOptions(new JWTOptions().setIssuer(ISSUER).setAudience(List.of(AUDIENCE))
            .setLeeway(5)));
  }

  public String issue(UUID subject, UUID tenantId, boolean superAdmin) {
    JsonObject claims = new JsonObject()
        .put("sub", subject.toString())
        .put("jti", UUID.randomUUID().toString())
        .put("sa", superAdmin)
        // millisecond issue time: sign-out invalidates sessions issued before it, even in the same second
        .put("ims", System.currentTimeMillis());
    if (tenantId != null) {
      claims.put("tid", tenantId.toString());
    }
    return auth.generateToken(claims, new JWTOptions().setAlgorithm("HS256").setIssuer(ISSUER)
        .setAudience(List.of(AUDIENCE)).setExpiresInMinutes(LIFETIME_MINUTES));
  }

  /** Fails for a bad signature, wrong iss/aud, expiry, a missing exp, or malformed claims. */
  public Future<Claims> verify(String token) {
    if (token == null || token.isBlank()) {
      return Future.failedFuture("no token");
    }
    Future<io.vertx.ext.auth.User> authenticated;
    try {
      authenticated = auth.authenticate(new TokenCredentials(token));
    } catch (RuntimeException malformed) {
      // vertx-auth-jwt throws, rather than fails, on some well-signed but malformed claims (a string exp)
      return Future.failedFuture("malformed token");
    }
    return authenticated.compose(user -> {
      // vertx-auth-jwt keeps the decoded claims in the attributes ("accessToken"), the raw token in the principal
      JsonObject p = user.attributes().getJsonObject("accessToken", user.principal());
      try {
        if (!(p.getValue("exp") instanceof Number) || !(p.getValue("ims") instanceof Number)) {
          return Future.failedFuture("token without exp/iat");
        }
        boolean sa = Boolean.TRUE.equals(p.getValue("sa"));
        String tid = p.getString("tid");
        if (!sa && tid == null) {
          return Future.failedFuture("token without tenant");
        }
        return Future.succeededFuture(new Claims(p.getString("jti"), UUID.fromString(p.getString("sub")),
            tid == null ? null : UUID.fromString(tid), sa, p.getLong("ims")));
      } catch (RuntimeException malformed) {
        return Future.failedFuture("malformed claims");
      }
    });
  }
}
