package ai.deepchat.rag.web;

import ai.deepchat.platform.outbound.OutboundPolicy;
import ai.deepchat.platform.outbound.OutboundRefusedException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;

import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * Fetches what a crawl reads (pages, robots.txt, sitemaps) only through the platform's
 * {@link OutboundPolicy}: every URL, and every redirect's target, is checked, its host resolved once and
 * every address checked, and the connection pinned to that address. Redirects are followed here, hop by
 * hop, at most {@value #MAX_REDIRECTS} times and only within the caller's scope; the HTTP client never
 * follows one itself. Bodies are read into memory up to a byte limit, past which the connection is dropped.
 */
public final class PageFetcher {

  public static final int MAX_REDIRECTS = 5;
  static final String USER_AGENT = RobotsRules.AGENT + "/1.0 (+knowledge-base import)";

  /** A response: the URL that answered (after redirects), its status, media type and body (empty unless 200). */
  public record Fetched(String url, int status, String mediaType, Buffer body) {
  }

  /** Why nothing was fetched; the message is what the page's status shows. */
  public static final class Failed extends RuntimeException {
    public Failed(String message) {
      super(message, null, false, false);
    }
  }

  private final Vertx vertx;
  private final OutboundPolicy policy;
  private final HttpClient client;
  private final Duration timeout;

  public PageFetcher(Vertx vertx, OutboundPolicy policy, Duration timeout) {
    this.vertx = vertx;
    this.policy = policy;
    this.client = vertx.createHttpClient();
    this.timeout = timeout;
  }

  /**
   * GETs {@code url}, following redirects whose target {@code inScope} accepts; a body above
   * {@code maxBytes} fails the fetch. Fails only with {@link Failed}.
   */
  public Future<Fetched> get(String url, String accept, long maxBytes, Predicate<String> inScope) {
    return hop(url, accept, maxBytes, inScope, 0)
        .recover(failure -> Future.failedFuture(failure instanceof Failed ? failure
            : new Failed("could not be fetched: " + failure.getMessage())));
  }

  private Future<Fetched> hop(String url, String accept, long maxBytes, Predicate<String> inScope, int redirects) {
    return policy.resolve(vertx, url)
        .recover(refused -> Future.failedFuture(refused instanceof OutboundRefusedException
            ? new Failed((redirects > 0 ? "redirect target refused: " : "refused: ") + refused.getMessage())
            : refused))
        .compose(target -> client.request(target.requestOptions(HttpMethod.GET).setTimeout(timeout.toMillis())
                .putHeader(HttpHeaders.ACCEPT, accept).putHeader(HttpHeaders.USER_AGENT, USER_AGENT))
            .compose(request -> request.send()))
        .compose(response -> {
          int status = response.statusCode();
          if (status >= 300 && status < 400 && response.getHeader(HttpHeaders.LOCATION) != null) {
            response.request().reset(); // a redirect's body is not wanted
            String next;
            try {
              next = URI.create(url).resolve(response.getHeader(HttpHeaders.LOCATION).strip()).toString();
            } catch (IllegalArgumentException malformed) {
              return Future.failedFuture(new Failed("redirects to a malformed URL"));
            }
            if (redirects >= MAX_REDIRECTS) {
              return Future.failedFuture(new Failed("more than " + MAX_REDIRECTS + " redirects"));
            }
            try {
              policy.check(next); // a refused target is named as such, whatever the scope
            } catch (OutboundRefusedException refused) {
              return Future.failedFuture(new Failed("redirect target refused: " + refused.getMessage()));
            }
            if (!inScope.test(next)) {
              return Future.failedFuture(new Failed("redirects out of the site, to " + abbreviate(next)));
            }
            return hop(next, accept, maxBytes, inScope, redirects + 1);
          }
          String type = String.valueOf(response.getHeader(HttpHeaders.CONTENT_TYPE)).split(";")[0].strip()
              .toLowerCase(Locale.ROOT);
          if (status != 200) {
            response.request().reset();
            return Future.succeededFuture(new Fetched(url, status, type, Buffer.buffer()));
          }
          String length = response.getHeader(HttpHeaders.CONTENT_LENGTH);
          if (length != null && length.matches("\\d{1,18}") && Long.parseLong(length) > maxBytes) {
            response.request().reset();
            return Future.failedFuture(tooLarge(maxBytes));
          }
          return body(response, maxBytes).map(body -> new Fetched(url, status, type, body));
        });
  }

  // The body up to maxBytes; one byte more drops the connection.
  private static Future<Buffer> body(HttpClientResponse response, long maxBytes) {
    Promise<Buffer> done = Promise.promise();
    Buffer body = Buffer.buffer();
    response.handler(chunk -> {
      if (done.future().isComplete()) {
        return;
      }
      if (body.length() + chunk.length() > maxBytes) {
        done.tryFail(tooLarge(maxBytes));
        response.request().reset();
        return;
      }
      body.appendBuffer(chunk);
    });
    response.exceptionHandler(done::tryFail);
    response.endHandler(ended -> done.tryComplete(body));
    return done.future();
  }

  private static Failed tooLarge(long maxBytes) {
    return new Failed("larger than the limit of " + maxBytes + " bytes");
  }

  static String abbreviate(String url) {
    return url.length() > 200 ? url.substring(0, 200) + "…" : url;
  }

  public Future<Void> close() {
    return client.close();
  }
}
