package ai.deepchat.rag.web;

/**
 * What one source asks to crawl: its start URL alone, or the site from there (same host and port) down to
 * {@code maxDepth} links and {@code maxPages} pages.
 */
public record CrawlPlan(String startUrl, boolean wholeSite, int maxDepth, int maxPages) {

  public static CrawlPlan singlePage(String url) {
    return new CrawlPlan(url, false, 0, 1);
  }
}
