package ai.deepchat.rag.http;

import ai.deepchat.platform.outbound.OutboundPolicy;
import ai.deepchat.platform.outbound.OutboundRefusedException;
import ai.deepchat.rag.web.PageNames;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;

/**
 * Fetches one web page for import, only through the platform's {@link OutboundPolicy}: the URL is
 * checked, its host resolved once and every address checked, and the connection pinned to that address;
 * redirects are never followed (the caller is told where the page moved, and may import that URL,
 * which is checked in turn). The body is streamed to disk up to the upload limit.
 */
final class WebPages {

  /** A fetched page on disk, named for the knowledge base after its URL. */
  record Page(Path file, String sourceName) {
  }

  /** Why a page was not fetched: {@code status} and {@code code} are what the API answers. */
  static final class Refused extends RuntimeException {
    final int status;
    final String code;

    Refused(int status, String code, String message) {
      super(message, null, false, false);
      this.status = status;
      this.code = code;
    }
  }

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final Vertx vertx;
  private final OutboundPolicy policy;
  private final HttpClient client;
  private final Path directory;
  private final long limit;

  WebPages(Vertx vertx, OutboundPolicy policy, Path directory, long limit) {
    this.vertx = vertx;
    this.policy = policy;
    this.client = vertx.createHttpClient();
    this.directory = directory;
    this.limit = limit;
  }

  /** The page at {@code url} in a temporary file (the caller deletes it). */
  Future<Page> fetch(String url) {
    Path file = directory.resolve(UUID.randomUUID() + ".page");
    return policy.resolve(vertx, url)
        .recover(refused -> Future.failedFuture(refused instanceof OutboundRefusedException
            ? new Refused(400, "url_refused", refused.getMessage()) : refused))
        .compose(target -> client.request(target.requestOptions(HttpMethod.GET)
                .setTimeout(TIMEOUT.toMillis()).putHeader(HttpHeaders.ACCEPT, "text/html, text/plain, text/markdown"))
            .compose(request -> request.send())
            .compose(response -> {
              response.pause(); // until the file is open: no chunk may arrive before its handler
              String extension;
              try {
                extension = extension(response);
              } catch (Refused refused) {
                response.request().reset(); // the body is not wanted: drop the connection rather than read it
                return Future.failedFuture(refused);
              }
              return vertx.fileSystem().mkdirs(directory.toString())
                  .compose(made -> vertx.fileSystem().open(file.toString(), new OpenOptions().setCreateNew(true)
                      .setWrite(true)))
                  .compose(out -> DiskSink.write(response, out, limit))
                  .recover(failure -> Future.failedFuture(failure instanceof DiskSink.TooLarge
                      ? new Refused(413, "file_too_large", "The page is larger than the upload limit of " + limit
                          + " bytes.") : failure))
                  .map(bytes -> new Page(file, PageNames.sourceName(target.url().host(), target.url().pathAndQuery(),
                      extension)));
            }))
        .recover(failure -> vertx.fileSystem().delete(file.toString()).transform(ignored ->
            Future.failedFuture(failure instanceof Refused ? failure
                : new Refused(400, "url_unreachable", "The page could not be fetched: " + failure.getMessage()))));
  }

  // Refuses what the knowledge base cannot take before reading any of the body.
  private String extension(HttpClientResponse response) {
    int status = response.statusCode();
    if (status >= 300 && status < 400) {
      throw new Refused(400, "url_redirected", "The page redirects to " + response.getHeader(HttpHeaders.LOCATION)
          + "; import that address instead (redirects are not followed).");
    }
    if (status != 200) {
      throw new Refused(400, "url_unreachable", "The page answered HTTP " + status + ".");
    }
    String length = response.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (length != null && length.matches("\\d{1,18}") && Long.parseLong(length) > limit) {
      throw new Refused(413, "file_too_large", "The page is larger than the upload limit of " + limit + " bytes.");
    }
    String type = String.valueOf(response.getHeader(HttpHeaders.CONTENT_TYPE)).split(";")[0].strip()
        .toLowerCase(Locale.ROOT);
    return switch (type) {
      case "text/html", "application/xhtml+xml" -> ".html";
      case "text/plain" -> ".txt";
      case "text/markdown" -> ".md";
      default -> throw new Refused(415, "unsupported_file_type", "The page is " + type
          + "; web import takes HTML, plain text or Markdown pages.");
    };
  }
}
