package ai.deepchat.rag.web;

import ai.deepchat.rag.web.PageFetcher.Fetched;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Element;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Crawls one source: its start page, and for a whole site the pages of the same host and port reachable
 * within the depth and page limits, plus those its sitemaps list; robots.txt is honoured for whole sites.
 * Each page's outcome goes to the caller's sink as it is known (a fetched body, or why not), so a failed
 * page is recorded and the crawl goes on. Links are read with jsoup on a worker pool.
 */
public final class SiteCrawler {

  /** What became of one URL. */
  public enum Outcome {
    /** Fetched with a type the knowledge base takes; {@code page} holds it. */
    FETCHED,
    /** Answered 404 or 410: the page is gone. */
    GONE,
    /** Not fetched by choice: robots.txt, or a type the knowledge base does not take. */
    SKIPPED,
    /** Could not be fetched now (refused, unreachable, server error, too large): what was imported stays. */
    FAILED
  }

  /** One URL's outcome; {@code extension} (".html", ".txt" or ".md") and {@code page} only when fetched. */
  public record Found(String url, int depth, Outcome outcome, String detail, String extension, Fetched page) {
  }

  /** A finished crawl: every URL given to the sink, and a note on robots.txt or sitemaps, or null. */
  public record Result(Set<String> urls, String note) {
  }

  private static final String PAGE_TYPES = "text/html, application/xhtml+xml, text/plain, text/markdown";

  private final Vertx vertx;
  private final PageFetcher fetcher;
  private final HostGate gate;
  private final WorkerExecutor parsing;
  private final CrawlSettings settings;

  public SiteCrawler(Vertx vertx, PageFetcher fetcher, HostGate gate, WorkerExecutor parsing, CrawlSettings settings) {
    this.vertx = vertx;
    this.fetcher = fetcher;
    this.gate = gate;
    this.parsing = parsing;
    this.settings = settings;
  }

  /**
   * Crawls {@code plan}, giving each URL's outcome to {@code sink} (whose future the crawl waits for before
   * it counts the page done). Fails only when the start URL is not a crawlable http(s) URL.
   */
  public Future<Result> crawl(CrawlPlan plan, Function<Found, Future<Void>> sink) {
    URI start;
    try {
      start = normalize(new URI(plan.startUrl()));
    } catch (URISyntaxException | IllegalArgumentException e) {
      return Future.failedFuture(new PageFetcher.Failed("not a valid URL"));
    }
    if (start == null) {
      return Future.failedFuture(new PageFetcher.Failed("only http and https URLs can be imported"));
    }
    Crawl crawl = new Crawl(plan, start, sink);
    if (!plan.wholeSite()) {
      crawl.enqueue(start.toString(), 0);
      crawl.pump();
      return crawl.done.future();
    }
    return robots(crawl).compose(rules -> {
      crawl.rules = rules;
      crawl.pause = rules.crawlDelay().compareTo(settings.delay()) > 0 ? rules.crawlDelay() : settings.delay();
      crawl.enqueue(start.toString(), 0);
      return plan.maxDepth() >= 1 ? sitemaps(crawl, rules) : Future.succeededFuture();
    }).compose(v -> {
      crawl.pump();
      return crawl.done.future();
    });
  }

  // RFC 9309: a 4xx robots.txt allows everything; a server error or no answer disallows everything
  private Future<RobotsRules> robots(Crawl crawl) {
    String url = crawl.origin + "/robots.txt";
    return polite(crawl, () -> fetcher.get(url, "text/plain", RobotsRules.MAX_BYTES, crawl::inScope))
        .map(fetched -> {
          if (fetched.status() == 200) {
            return RobotsRules.parse(fetched.body().getBytes());
          }
          if (fetched.status() >= 400 && fetched.status() < 500) {
            return RobotsRules.allowAll();
          }
          crawl.note = "robots.txt answered HTTP " + fetched.status() + ": nothing crawled (RFC 9309)";
          return RobotsRules.disallowAll();
        })
        .recover(failure -> {
          crawl.note = "robots.txt " + failure.getMessage() + ": nothing crawled (RFC 9309)";
          return Future.succeededFuture(RobotsRules.disallowAll());
        });
  }

  // /sitemap.xml and those robots.txt lists, sitemap indexes followed, all within the site and the caps
  private Future<Void> sitemaps(Crawl crawl, RobotsRules rules) {
    Queue<String> files = new ArrayDeque<>();
    Set<String> read = new HashSet<>();
    files.add(crawl.origin + "/sitemap.xml");
    files.addAll(rules.sitemaps());
    return nextSitemap(crawl, files, read, new int[] {0});
  }

  private Future<Void> nextSitemap(Crawl crawl, Queue<String> files, Set<String> read, int[] urls) {
    String file = files.poll();
    if (file == null || read.size() >= settings.maxSitemaps() || urls[0] >= settings.maxSitemapUrls()) {
      return Future.succeededFuture();
    }
    String url = resolve(crawl.start, file);
    if (url == null || !crawl.inScope(url) || !read.add(url)) {
      return nextSitemap(crawl, files, read, urls);
    }
    return polite(crawl, () -> fetcher.get(url, "application/xml, text/xml", Sitemap.MAX_BYTES,
            crawl::inScope))
        .compose(fetched -> fetched.status() != 200 ? Future.succeededFuture((Sitemap) null)
            : parsing.executeBlocking(() -> Sitemap.parse(fetched.body().getBytes(),
                settings.maxSitemapUrls() - urls[0]), false))
        .otherwise(failure -> null) // a broken sitemap only means fewer pages found
        .compose(sitemap -> {
          if (sitemap != null) {
            urls[0] += sitemap.pages().size() + sitemap.sitemaps().size();
            sitemap.pages().forEach(page -> crawl.enqueue(resolve(crawl.start, page), 1));
            files.addAll(sitemap.sitemaps());
          }
          return nextSitemap(crawl, files, read, urls);
        });
  }

  /** One crawl's state; touched from its own context, guarded anyway since sinks may complete elsewhere. */
  private final class Crawl {
    final CrawlPlan plan;
    final URI start;
    final String origin;
    final Function<Found, Future<Void>> sink;
    final Promise<Result> done = Promise.promise();
    final Set<String> seen = new LinkedHashSet<>();
    final Queue<String[]> queue = new ArrayDeque<>();
    final Set<String> settled = new HashSet<>();
    RobotsRules rules = RobotsRules.allowAll();
    Duration pause = settings.delay();
    String note;
    int started;
    int running;

    Crawl(CrawlPlan plan, URI start, Function<Found, Future<Void>> sink) {
      this.plan = plan;
      this.start = start;
      this.origin = start.getScheme() + "://" + start.getRawAuthority();
      this.sink = sink;
    }

    boolean inScope(String url) {
      try {
        URI uri = normalize(new URI(url));
        return uri != null && uri.getScheme().equals(start.getScheme()) && uri.getHost().equals(start.getHost())
            && uri.getPort() == start.getPort();
      } catch (URISyntaxException | IllegalArgumentException e) {
        return false;
      }
    }

    synchronized void enqueue(String url, int depth) {
      if (url != null && depth <= plan.maxDepth() && inScope(url) && seen.size() < plan.maxPages() * 4
          && seen.add(url)) {
        queue.add(new String[] {url, Integer.toString(depth)});
      }
    }

    synchronized void pump() {
      while (running < settings.perHost() && started < plan.maxPages() && !queue.isEmpty()) {
        String[] next = queue.poll();
        String url = next[0];
        int depth = Integer.parseInt(next[1]);
        URI uri = URI.create(url);
        String path = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
        if (!rules.allows(path)) {
          running++;
          settle(new Found(url, depth, Outcome.SKIPPED, "disallowed by robots.txt", null, null));
          continue;
        }
        started++;
        running++;
        polite(this, () -> fetcher.get(url, PAGE_TYPES, settings.maxPageBytes(), this::inScope))
            .compose(fetched -> classify(url, depth, fetched))
            .otherwise(failure -> new Found(url, depth, Outcome.FAILED, failure.getMessage(), null, null))
            .onSuccess(this::settle);
      }
      if (running == 0 && (queue.isEmpty() || started >= plan.maxPages())) {
        done.tryComplete(new Result(Set.copyOf(settled), note));
      }
    }

    void settle(Found found) {
      Future<Void> recorded;
      try {
        recorded = sink.apply(found);
      } catch (RuntimeException e) {
        recorded = Future.failedFuture(e);
      }
      recorded.onComplete(ignored -> {
        synchronized (this) {
          settled.add(found.url());
          running--;
        }
        vertx.runOnContext(v -> pump()); // not nested: a run of skipped pages must not deepen the stack
      });
    }

    private Future<Found> classify(String requested, int depth, Fetched fetched) {
      // a redirect within the site: the page is the one that answered, recorded once under its own URL
      String url = requested;
      String landed = resolve(null, fetched.url());
      if (landed != null && !landed.equals(requested)) {
        boolean first;
        synchronized (this) {
          first = seen.add(landed);
        }
        if (!first && depth > 0) {
          return Future.succeededFuture(new Found(requested, depth, Outcome.SKIPPED, "redirects to " + landed
              + ", imported under that address", null, null));
        }
        url = landed;
      }
      if (fetched.status() == 404 || fetched.status() == 410) {
        return Future.succeededFuture(new Found(url, depth, Outcome.GONE, "HTTP " + fetched.status(), null, null));
      }
      if (fetched.status() != 200) {
        return Future.succeededFuture(new Found(url, depth, Outcome.FAILED, "HTTP " + fetched.status(), null, null));
      }
      String extension = switch (fetched.mediaType()) {
        case "text/html", "application/xhtml+xml" -> ".html";
        case "text/plain" -> ".txt";
        case "text/markdown" -> ".md";
        default -> null;
      };
      if (extension == null) {
        return Future.succeededFuture(new Found(url, depth, Outcome.SKIPPED, "not a page the knowledge base takes ("
            + fetched.mediaType() + ")", null, null));
      }
      Found found = new Found(url, depth, Outcome.FETCHED, null, extension, fetched);
      if (!plan.wholeSite() || !extension.equals(".html") || depth >= plan.maxDepth()) {
        return Future.succeededFuture(found);
      }
      return parsing.executeBlocking(() -> links(fetched), false).map(links -> {
        links.forEach(link -> enqueue(link, depth + 1));
        return found;
      });
    }
  }

  /** Absolute http(s) links of an HTML page, resolved against the URL it came from (or its {@code <base>}). */
  static List<String> links(Fetched page) {
    List<String> links = new ArrayList<>();
    for (Element a : Jsoup.parse(page.body().toString(StandardCharsets.UTF_8), page.url()).select("a[href]")) {
      String rel = a.attr("rel").toLowerCase(Locale.ROOT);
      if (rel.contains("nofollow")) {
        continue;
      }
      String url = resolve(null, a.absUrl("href"));
      if (url != null) {
        links.add(url);
      }
    }
    return links;
  }

  // a permit of the host's gate, held for the request and the polite pause after it
  private <T> Future<T> polite(Crawl crawl, Supplier<Future<T>> request) {
    String host = crawl.start.getHost() + ":" + crawl.start.getPort();
    return gate.acquire(host).compose(permit -> request.get().andThen(ended -> {
      long pause = crawl.pause.toMillis();
      if (pause > 0) {
        vertx.setTimer(pause, t -> gate.release(host));
      } else {
        gate.release(host);
      }
    }));
  }

  /** {@code href} resolved against {@code base} (when given) and normalized; null if it is not http(s). */
  static String resolve(URI base, String href) {
    try {
      URI uri = base == null ? new URI(href.strip()) : base.resolve(href.strip());
      URI normal = normalize(uri);
      return normal == null ? null : normal.toString();
    } catch (URISyntaxException | IllegalArgumentException e) {
      return null;
    }
  }

  // scheme and host lower case, the default port dropped (as -1), no fragment, "/" for an empty path
  private static URI normalize(URI uri) throws URISyntaxException {
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null || uri.getRawUserInfo() != null) {
      return null;
    }
    int port = uri.getPort() == (scheme.equals("https") ? 443 : 80) ? -1 : uri.getPort();
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
    String host = uri.getHost().toLowerCase(Locale.ROOT);
    return new URI(scheme + "://" + host + (port < 0 ? "" : ":" + port) + path + query);
  }
}
