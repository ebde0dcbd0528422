package ai.deepchat.rag.web;

import java.time.Duration;

/**
 * How politely and how far the node crawls; the same for every source.
 *
 * @param perHost       requests in flight to one host, across every crawl of the node
 * @param delay         pause after each request to a host, raised to the site's robots.txt Crawl-delay (at most 10 s)
 * @param timeout       one request, connection to last byte
 * @param maxPageBytes  a larger page is recorded as failed, not imported
 * @param maxSitemapUrls entries read from all of a site's sitemaps together
 * @param maxSitemaps   sitemap files read per crawl (an index and the sitemaps it lists)
 */
public record CrawlSettings(int perHost, Duration delay, Duration timeout, long maxPageBytes, int maxSitemapUrls,
                            int maxSitemaps) {

  public static final int DEFAULT_DEPTH = 3;
  public static final int MAX_DEPTH = 10;
  public static final int DEFAULT_PAGES = 100;
  public static final int MAX_PAGES = 2_000;

  public CrawlSettings {
    if (perHost < 1 || delay.isNegative() || timeout.isNegative() || timeout.isZero() || maxPageBytes < 1
        || maxSitemapUrls < 1 || maxSitemaps < 1) {
      throw new IllegalArgumentException("invalid crawl settings");
    }
  }

  /** Two requests at a time per host, a quarter second apart, pages up to 5 MB. */
  public static CrawlSettings defaults() {
    return new CrawlSettings(2, Duration.ofMillis(250), Duration.ofSeconds(30), 5L * 1024 * 1024, 10_000, 10);
  }

  public CrawlSettings withDelay(Duration pause) {
    return new CrawlSettings(perHost, pause, timeout, maxPageBytes, maxSitemapUrls, maxSitemaps);
  }
}
