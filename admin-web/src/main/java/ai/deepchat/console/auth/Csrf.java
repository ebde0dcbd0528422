package ai.deepchat.console.auth;

import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.ext.web.RoutingContext;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * CSRF protection for every console form: a random HttpOnly, SameSite=Strict cookie, and a form token
 * that is an HMAC of that cookie and the session id, so a token is useless with another browser's
 * cookie or after the session changes. Unsafe requests also need a same-origin Origin header when the
 * browser sends one.
 */
public final class Csrf {

  public static final String COOKIE = "dc_csrf";
  public static final String FIELD = "_csrf";
  public static final String HEADER = "X-CSRF-Token";
  private static final String CONTEXT_KEY = "csrfCookie";
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private final byte[] key;
  private final CookiePolicy cookies;

  public Csrf(String secret, CookiePolicy cookies) {
    this.key = ("csrf:" + secret).getBytes(StandardCharsets.UTF_8);
    this.cookies = cookies;
  }

  /** The token for forms of this request, setting the cookie first when the browser has none. */
  public String token(RoutingContext ctx, String sessionId) {
    String cookieValue = ctx.get(CONTEXT_KEY);
    if (cookieValue == null) {
      Cookie c = ctx.request().getCookie(COOKIE);
      cookieValue = c != null && c.getValue().length() >= 22 ? c.getValue() : null;
    }
    if (cookieValue == null) {
      byte[] bytes = new byte[24];
      RANDOM.nextBytes(bytes);
      cookieValue = B64.encodeToString(bytes);
      ctx.response().addCookie(cookies.apply(ctx, Cookie.cookie(COOKIE, cookieValue)));
    }
    ctx.put(CONTEXT_KEY, cookieValue);
    return sign(cookieValue, sessionId);
  }

  /** True when the request carries a token made for its own cookie and session, from our own origin. */
  public boolean valid(RoutingContext ctx, String sessionId) {
    if (!sameOrigin(ctx)) {
      return false;
    }
    Cookie c = ctx.request().getCookie(COOKIE);
    if (c == null || c.getValue().length() < 22) {
      return false;
    }
    String presented = ctx.request().getHeader(HEADER);
    if (presented == null) {
      presented = ctx.request().getFormAttribute(FIELD);
    }
    if (presented == null) {
      return false;
    }
    return MessageDigest.isEqual(presented.getBytes(StandardCharsets.UTF_8),
        sign(c.getValue(), sessionId).getBytes(StandardCharsets.UTF_8));
  }

  /** An Origin (or, lacking it, Referer) naming another site fails; browsers send one on POST. */
  static boolean sameOrigin(RoutingContext ctx) {
    String origin = ctx.request().getHeader("Origin");
    if (origin == null) {
      String referer = ctx.request().getHeader("Referer");
      if (referer == null) {
        return true;
      }
      origin = referer;
    }
    if ("null".equals(origin)) {
      return false;
    }
    try {
      URI uri = URI.create(origin);
      var authority = ctx.request().authority();
      if (authority == null || uri.getHost() == null) {
        return false;
      }
      // An origin is scheme, host and port: http://host is another site than https://host (a page
      // served over plain http, e.g. by a man in the middle, must not post to the https console).
      if (!requestScheme(ctx).equalsIgnoreCase(uri.getScheme())) {
        return false;
      }
      int defaultPort = "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
      int originPort = uri.getPort() < 0 ? defaultPort : uri.getPort();
      // A Host without a port (typical behind a TLS-terminating proxy) is compared by name alone.
      return authority.host().equalsIgnoreCase(uri.getHost())
          && (authority.port() < 0 || originPort == authority.port());
    } catch (IllegalArgumentException malformed) {
      return false;
    }
  }

  /** https when the request came over TLS, directly or through a proxy that says so (X-Forwarded-Proto). */
  public static String requestScheme(RoutingContext ctx) {
    return ctx.request().isSSL() || "https".equalsIgnoreCase(ctx.request().getHeader("X-Forwarded-Proto"))
        ? "https" : "http";
  }

  private String sign(String cookieValue, String sessionId) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      mac.update(cookieValue.getBytes(StandardCharsets.UTF_8));
      mac.update((byte) 0);
      mac.update((sessionId == null ? "" : sessionId).getBytes(StandardCharsets.UTF_8));
      return B64.encodeToString(mac.doFinal());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The console's cookie attributes: HttpOnly, SameSite=Strict, path /console, Secure when due. */
  public record CookiePolicy(java.util.Optional<Boolean> secure) {

    public Cookie apply(RoutingContext ctx, Cookie cookie) {
      boolean https = secure.orElseGet(() -> "https".equals(requestScheme(ctx)));
      return cookie.setHttpOnly(true).setSameSite(CookieSameSite.STRICT).setPath("/console").setSecure(https);
    }
  }
}
