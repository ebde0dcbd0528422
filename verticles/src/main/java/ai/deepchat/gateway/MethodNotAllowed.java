package ai.deepchat.gateway;

import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.Set;
import java.util.TreeSet;

/**
 * The last handler: a path some route serves with other methods gets 405 with {@code Allow} (what
 * HTTP and OpenAI clients expect, e.g. GET on /v1/chat/completions), any other path 404 (an HTML page
 * for a browser, {@link ErrorPages}). Vert.x's own
 * 405 never fires behind a catch-all route, so the methods are read from the router's routes.
 */
final class MethodNotAllowed {

  private MethodNotAllowed() {
  }

  static void handle(Router router, RoutingContext ctx) {
    String path = ctx.request().path();
    Set<String> allowed = allowed(router, path);
    // this method matched only pass-through routes (StreamingRoutes' guards): no endpoint, not a 405
    if (allowed.isEmpty() || allowed.contains(ctx.request().method().name())) {
      if (ErrorPages.wantsHtml(ctx)) {
        ErrorPages.send(ctx, 404);
        return;
      }
      HttpErrors.send(ctx, 404, "No such endpoint: " + ctx.request().method() + " " + path,
          "invalid_request_error", "not_found");
      return;
    }
    ctx.response().putHeader("Allow", String.join(", ", allowed));
    HttpErrors.send(ctx, 405, ctx.request().method() + " is not allowed on " + path + "; use "
        + String.join(" or ", allowed) + ".", "invalid_request_error", "method_not_allowed");
  }

  static Set<String> allowed(Router router, String path) {
    Set<String> out = new TreeSet<>();
    for (Route route : router.getRoutes()) {
      Set<HttpMethod> methods = route.methods();
      String template = route.getPath();
      // a path with :params counts as a regex path too, but keeps its template; pure regex routes have none
      if (methods == null || methods.isEmpty() || template == null) {
        continue;
      }
      if (matches(template, path)) {
        methods.forEach(m -> out.add(m.name()));
      }
    }
    return out;
  }

  /**
   * {@code /v1/models/:model} style templates, with Vert.x's trailing {@code *} for a prefix; compared
   * segment by segment, since this runs for every unmatched request (scanners send many).
   */
  static boolean matches(String template, String path) {
    boolean prefix = template.endsWith("*");
    String[] want = (prefix ? template.substring(0, template.length() - 1) : template).split("/", -1);
    String[] got = path.split("/", -1);
    int wanted = want.length;
    if (prefix || (wanted > 1 && want[wanted - 1].isEmpty())) {
      wanted--; // "/a/*" and "/a/" name the segments before the last slash
    }
    int have = got.length;
    if (!prefix && have == wanted + 1 && got[have - 1].isEmpty()) {
      have--; // one trailing slash is the same path
    }
    if (prefix ? have < wanted : have != wanted) {
      return false;
    }
    for (int i = 0; i < wanted; i++) {
      boolean param = want[i].startsWith(":");
      if (param ? got[i].isEmpty() : !want[i].equals(got[i])) {
        return false;
      }
    }
    return true;
  }
}
