package ai.deepchat.console.web;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * Headers on every console response: a strict Content-Security-Policy (scripts and styles only from
 * our own static files, no inline code, no framing), no MIME sniffing, no referrer leaks, and no
 * caching of pages that show tenant data.
 */
public final class SecurityHeaders implements Handler<RoutingContext> {

  static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      + "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
      + "object-src 'none'";

  @Override
  public void handle(RoutingContext ctx) {
    ctx.response().headers()
        .set("Content-Security-Policy", CSP)
        .set("X-Content-Type-Options", "nosniff")
        .set("X-Frame-Options", "DENY")
        .set("Referrer-Policy", "same-origin")
        .set("Cross-Origin-Opener-Policy", "same-origin")
        .set("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
    if (!ctx.request().path().startsWith("/console/static/")) {
      ctx.response().headers().set("Cache-Control", "no-store");
    }
    ctx.next();
  }
}
