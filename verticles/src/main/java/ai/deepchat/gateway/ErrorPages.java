package ai.deepchat.gateway;

import io.vertx.ext.web.RoutingContext;

import java.util.Locale;

/**
 * A browser that opens a page this node does not have, or one that fails, gets a short HTML page in
 * its language with the request id and links onward; API clients, which do not ask for HTML, keep the
 * JSON error ({@link HttpErrors}). Nothing the client sent is echoed into the page.
 */
final class ErrorPages {

  private static final String CSP = "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'";

  private ErrorPages() {
  }

  /** A browser navigation: it lists text/html in Accept (API clients send JSON, SSE or a bare wildcard). */
  static boolean wantsHtml(RoutingContext ctx) {
    String accept = ctx.request().getHeader("Accept");
    return accept != null && accept.toLowerCase(Locale.ROOT).contains("text/html");
  }

  static void send(RoutingContext ctx, int status) {
    if (ctx.response().ended()) {
      return;
    }
    boolean zh = chinese(ctx.request().getHeader("Accept-Language"));
    boolean missing = status == 404;
    String title = missing ? (zh ? "页面不存在" : "Page not found")
        : (zh ? "出错了" : "Something went wrong");
    String text = missing ? (zh ? "本节点上没有这个地址。" : "This node has no page at this address.")
        : (zh ? "请求未能完成，请稍后重试。向管理员报告时请提供请求编号。"
            : "The request could not be completed; try again shortly. Quote the request id to an operator.");
    String requestId = String.valueOf((Object) ctx.get(RequestIdHandler.CONTEXT_KEY)); // sane: RequestIdHandler
    String html = "<!DOCTYPE html><html lang=\"" + (zh ? "zh" : "en") + "\"><head><meta charset=\"utf-8\">"
        + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>" + status + " " + title
        + " - DeepChat</title><link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/console/static/landing.css\">"
        + "</head><body><main id=\"main\"><p class=\"muted\">" + status + "</p><h1>" + title + "</h1><p class=\"lead\">"
        + text + "</p><p class=\"muted\">" + (zh ? "请求编号" : "Request id") + ": <code>" + requestId + "</code></p>"
        + "<p><a href=\"/\">" + (zh ? "首页" : "Home") + "</a> · <a href=\"/console/\">"
        + (zh ? "控制台" : "Console") + "</a></p></main></body></html>";
    ctx.response().setStatusCode(status)
        .putHeader("Content-Type", "text/html; charset=utf-8")
        .putHeader("Content-Security-Policy", CSP)
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("Cache-Control", "no-store")
        .end(html);
  }

  /** The first of zh or en in Accept-Language decides; English otherwise. */
  static boolean chinese(String acceptLanguage) {
    if (acceptLanguage == null) {
      return false;
    }
    for (String part : acceptLanguage.split(",")) {
      String tag = part.split(";")[0].trim().toLowerCase(Locale.ROOT);
      if (tag.startsWith("zh")) {
        return true;
      }
      if (tag.startsWith("en")) {
        return false;
      }
    }
    return false;
  }
}
