package ai.deepchat.gateway;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * Refuses a path or query string carrying U+0000 ({@code %00}) with 400 before any route reads it:
 * PostgreSQL text cannot hold NUL, so a search for {@code a%00b} used to fail in the database as a
 * 500. One check here covers every query and path parameter of every feature (console search, audit
 * filters, widget keys, knowledge-base ids); JSON bodies are checked where they are parsed.
 */
final class NulInUriHandler implements Handler<RoutingContext> {

  @Override
  public void handle(RoutingContext ctx) {
    if (hasNul(ctx.request().uri())) {
      HttpErrors.send(ctx, 400, "The URL contains a NUL character (%00), which no parameter may hold.",
          "invalid_request_error", "invalid_characters");
      return;
    }
    ctx.next();
  }

  static boolean hasNul(String uri) {
    if (uri == null) {
      return false;
    }
    for (int i = uri.indexOf('%'); i >= 0 && i + 2 < uri.length(); i = uri.indexOf('%', i + 1)) {
      if (uri.charAt(i + 1) == '0' && uri.charAt(i + 2) == '0') {
        return true;
      }
    }
    return uri.indexOf('\0') >= 0;
  }
}
