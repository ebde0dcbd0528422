package ai.deepchat.widget;

import ai.deepchat.platform.http.HttpModule;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/**
 * Serves the embeddable widget script. {@code /widget.js} (what tenants embed) is a short-cached
 * redirect to {@code /widget/<content hash>.js}, which is immutable and cached for a year, so a new
 * release reaches every site within minutes while browsers never re-download an unchanged script. The
 * script is public (any origin may load it); the chat endpoints check the Origin themselves.
 *
 * <p>The source is kept in parts by concern ({@link #PARTS}), each a piece of the one function the
 * script is; they are joined here once, in that order, byte for byte, so the served script is one file.
 */
public final class WidgetScriptModule implements HttpModule {

  /** The script's parts in the order they are joined: the first opens its function, the last closes it. */
  static final List<String> PARTS = List.of(
      "widget/01-core.js",       // the embed's key and origin, texts (en, zh), saved state, helpers
      "widget/02-markdown.js",   // safe Markdown: DOM nodes and textContent only
      "widget/03-panel.js",      // styles, the launcher button and the panel, focus, open and close
      "widget/04-messages.js",   // message bubbles, citations, feedback, the rating form, errors
      "widget/05-transport.js",  // session and history, WebSocket with reconnects, SSE fallback, stream events
      "widget/06-handoff.js",    // human handoff: the person button, queue status, agent messages, tickets
      "widget/07-start.js");     // config request, then build, session and history
  static final int LOADER_MAX_AGE_SECONDS = 300;

  private final Buffer script;
  private final String hash;
  private final int gzipBytes;

  /** Reads and joins the script's parts from the class path (blocking: construct at start-up). */
  public WidgetScriptModule() {
    byte[] bytes = read();
    this.script = Buffer.buffer(bytes);
    this.hash = sha256(bytes).substring(0, 16);
    this.gzipBytes = gzipSize(bytes);
  }

  /** The immutable URL path of the current script, e.g. {@code /widget/0123456789abcdef.js}. */
  public String hashedPath() {
    return "/widget/" + hash + ".js";
  }

  public int sizeBytes() {
    return script.length();
  }

  /** Size after gzip at the default level (the server compresses when the browser accepts it). */
  public int gzipBytes() {
    return gzipBytes;
  }

  @Override
  public void mount(Router router) {
    router.get("/widget.js").handler(ctx -> {
      common(ctx);
      ctx.response().setStatusCode(302)
          .putHeader(HttpHeaders.LOCATION, hashedPath())
          .putHeader(HttpHeaders.CACHE_CONTROL, "public, max-age=" + LOADER_MAX_AGE_SECONDS)
          .end();
    });
    router.get(hashedPath()).handler(ctx -> {
      common(ctx);
      ctx.response()
          .putHeader(HttpHeaders.CONTENT_TYPE, "text/javascript; charset=utf-8")
          .putHeader(HttpHeaders.CACHE_CONTROL, "public, max-age=31536000, immutable")
          .putHeader(HttpHeaders.ETAG, "\"" + hash + "\"");
      if (("\"" + hash + "\"").equals(ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH))) {
        ctx.response().setStatusCode(304).end();
        return;
      }
      ctx.response().end(script);
    });
  }

  private static void common(RoutingContext ctx) {
    ctx.response()
        .putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .putHeader("Cross-Origin-Resource-Policy", "cross-origin")
        .putHeader("X-Content-Type-Options", "nosniff");
  }

  private static byte[] read() {
    ByteArrayOutputStream script = new ByteArrayOutputStream();
    for (String part : PARTS) {
      try (InputStream in = WidgetScriptModule.class.getClassLoader().getResourceAsStream(part)) {
        if (in == null) {
          throw new IllegalStateException("missing " + part + " on the class path");
        }
        in.transferTo(script);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return script.toByteArray();
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static int gzipSize(byte[] bytes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.size();
  }

  @Override
  public String toString() {
    return "widget " + hashedPath() + " (" + script.length() + " bytes, " + gzipBytes + " gzipped)";
  }
}
