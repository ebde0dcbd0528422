package ai.deepchat.console.web;

import io.vertx.ext.web.RoutingContext;

import java.util.UUID;

/** Reading form fields and path ids: bad values become a 400 (or, for ids, a 404) page. */
public final class Forms {

  private Forms() {
  }

  /** A trimmed field of at most {@code max} characters; required fields must be non-blank. */
  public static String text(RoutingContext ctx, String name, int max, boolean required) {
    String v = ctx.request().getFormAttribute(name);
    v = v == null ? "" : v.strip();
    if (required && v.isEmpty()) {
      throw ConsoleException.badRequest("error.required", name);
    }
    if (v.length() > max) {
      throw ConsoleException.badRequest("error.tooLong", name, max);
    }
    if (v.chars().anyMatch(ch -> ch < 0x20 && ch != '\n' && ch != '\r' && ch != '\t')) {
      throw ConsoleException.badRequest("error.invalid", name);
    }
    return v;
  }

  /** A number from 0 to 1 (a threshold); blank is null unless {@code required}. */
  public static Double fraction(RoutingContext ctx, String name, boolean required) {
    String text = text(ctx, name, 6, required);
    if (text.isEmpty()) {
      return null;
    }
    double v;
    try {
      v = Double.parseDouble(text);
    } catch (NumberFormatException e) {
      v = -1;
    }
    if (!(v >= 0 && v <= 1)) {
      throw ConsoleException.badRequest("settings.error.fraction", name);
    }
    return v;
  }

  public static boolean checkbox(RoutingContext ctx, String name) {
    String v = ctx.request().getFormAttribute(name);
    return v != null && (v.equals("on") || v.equals("true") || v.equals("1"));
  }

  /** A UUID from the path; anything else names nothing, so it is a 404 like another tenant's id. */
  public static UUID id(RoutingContext ctx, String param) {
    String v = ctx.pathParam(param);
    try {
      return UUID.fromString(v);
    } catch (RuntimeException e) {
      throw ConsoleException.notFound();
    }
  }

  public static String ip(RoutingContext ctx) {
    return ctx.request().remoteAddress() == null ? null : ctx.request().remoteAddress().host();
  }

  /** A same-console path to go back to after sign-in; anything else falls back to the overview. */
  public static String localNext(String next) {
    if (next == null || !next.startsWith(ConsoleRouter.BASE + "/") || next.startsWith(ConsoleRouter.BASE + "//")
        || next.contains("\\") || next.chars().anyMatch(ch -> ch < 0x21)) {
      return ConsoleRouter.BASE + "/";
    }
    return next;
  }
}
