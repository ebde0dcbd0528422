package ai.deepchat.console.markdown;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Renders the stored Markdown of a console page (chunks, transcript messages, FAQ answers, search hits)
 * on a small named worker pool, never on the event loop: one tenant's heavy page then delays neither
 * the other requests of its event loop nor other tenants. A page has a time budget: texts still
 * waiting when it runs out are shown as escaped plain text, so a page answers within about
 * {@link #PAGE_BUDGET_MILLIS} plus one text's bounded rendering. One per node, shared by every gateway
 * instance.
 */
public final class MarkdownRenderer {

  /** The worker pool's name (it shows in thread names and Vert.x's blocked-thread warnings). */
  public static final String POOL = "console-markdown";
  static final int POOL_SIZE = 2;
  static final long PAGE_BUDGET_MILLIS = 2_000;

  private final WorkerExecutor pool;

  public MarkdownRenderer(Vertx vertx) {
    this.pool = vertx.createSharedWorkerExecutor(POOL, POOL_SIZE, 60, TimeUnit.SECONDS);
  }

  /** Safe HTML of each text, in order; completes on the caller's context. */
  public Future<List<String>> toHtml(List<String> texts) {
    if (texts.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    // unordered: pages of different requests render side by side on the pool's threads
    return pool.executeBlocking(() -> render(texts), false);
  }

  /**
   * Puts the safe HTML of each row's {@code textKey} under {@code htmlKey} (the rows of a page's model);
   * completes on the caller's context once every row has it.
   */
  public Future<Void> fill(List<Map<String, Object>> rows, String textKey, String htmlKey) {
    return toHtml(rows.stream().map(row -> (String) row.get(textKey)).toList()).map(html -> {
      for (int i = 0; i < rows.size(); i++) {
        rows.get(i).put(htmlKey, html.get(i));
      }
      return null;
    });
  }

  static List<String> render(List<String> texts) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PAGE_BUDGET_MILLIS);
    List<String> html = new ArrayList<>(texts.size());
    for (String text : texts) {
      html.add(System.nanoTime() < deadline ? SafeMarkdown.toHtml(text) : SafeMarkdown.plain(text));
    }
    return html;
  }
}
