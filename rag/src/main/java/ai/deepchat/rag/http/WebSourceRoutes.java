package ai.deepchat.rag.http;

import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import ai.deepchat.rag.web.CrawlPlan;
import ai.deepchat.rag.web.CrawlSettings;
import ai.deepchat.rag.web.WebSource;
import ai.deepchat.rag.web.WebSourcePage;
import ai.deepchat.rag.web.WebSources;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.time.OffsetDateTime;
import java.util.Set;

/**
 * Web sources of a knowledge base, beside the routes of {@link RagRoutes}:
 * <pre>
 * POST   /{kbId}/web-sources     {url, whole_site?, max_depth?, max_pages?, sync_interval_minutes?}
 *                                the source, its first sync started                          202 source
 * GET    /{kbId}/web-sources?limit=&after=                                                   200 list
 * GET    /{kbId}/web-sources/{sourceId}                                                      200 source
 * GET    /{kbId}/web-sources/{sourceId}/pages?limit=&after=   each page's last outcome      200 list
 * POST   /{kbId}/web-sources/{sourceId}/sync   a sync now; 409 while one runs               202 source
 * DELETE /{kbId}/web-sources/{sourceId}        with the documents it imported              204
 * </pre>
 */
final class WebSourceRoutes {

  private static final int MAX_URL = 2_000;
  /** Five minutes to thirty days. */
  private static final int MIN_INTERVAL = 5;
  private static final int MAX_INTERVAL = 30 * 24 * 60;
  private static final Set<String> FIELDS = Set.of("url", "whole_site", "max_depth", "max_pages",
      "sync_interval_minutes");

  private final WebSources sources;

  private WebSourceRoutes(WebSources sources) {
    this.sources = sources;
  }

  static void mount(Router router, WebSources sources, BodyHandler body) {
    WebSourceRoutes routes = new WebSourceRoutes(sources);
    router.post("/:kbId/web-sources").handler(body).handler(RagRoutes.json(202, routes::create));
    router.get("/:kbId/web-sources").handler(body).handler(RagRoutes.json(200, routes::list));
    router.get("/:kbId/web-sources/:sourceId").handler(body).handler(RagRoutes.json(200, ctx -> sources.get(
        RagRoutes.tenant(ctx), RagRoutes.id(ctx, "kbId"), RagRoutes.id(ctx, "sourceId")).map(WebSourceRoutes::json)));
    router.get("/:kbId/web-sources/:sourceId/pages").handler(body).handler(RagRoutes.json(200, routes::pages));
    router.post("/:kbId/web-sources/:sourceId/sync").handler(body).handler(RagRoutes.json(202, ctx -> {
      RequestJson.query(ctx, Set.of());
      return sources.sync(RagRoutes.tenant(ctx), RagRoutes.id(ctx, "kbId"), RagRoutes.id(ctx, "sourceId"))
          .recover(failure -> Future.failedFuture(RagException.errorOf(failure) == RagError.CONFLICT
              ? new ApiProblem(409, "sync_running", null, failure.getMessage()) : failure))
          .map(WebSourceRoutes::json);
    }));
    router.delete("/:kbId/web-sources/:sourceId").handler(body).handler(RagRoutes.json(204, ctx -> sources.delete(
        RagRoutes.tenant(ctx), RagRoutes.id(ctx, "kbId"), RagRoutes.id(ctx, "sourceId")).map(ignored -> null)));
  }

  private Future<JsonObject> create(RoutingContext ctx) {
    JsonObject body = RequestJson.object(ctx, FIELDS);
    String url = RequestJson.string(body, "url", MAX_URL, true);
    boolean wholeSite = Boolean.TRUE.equals(RequestJson.bool(body, "whole_site"));
    if (!wholeSite) {
      for (String field : Set.of("max_depth", "max_pages")) {
        if (body.containsKey(field)) {
          throw ApiProblem.invalid(field, "'" + field + "' applies to a whole site: set whole_site to true.");
        }
      }
    }
    CrawlPlan plan = wholeSite
        ? new CrawlPlan(url, true,
            RequestJson.integer(body, "max_depth", 0, CrawlSettings.MAX_DEPTH, CrawlSettings.DEFAULT_DEPTH),
            RequestJson.integer(body, "max_pages", 1, CrawlSettings.MAX_PAGES, CrawlSettings.DEFAULT_PAGES))
        : CrawlPlan.singlePage(url);
    Integer interval = body.getValue("sync_interval_minutes") == null ? null
        : RequestJson.integer(body, "sync_interval_minutes", MIN_INTERVAL, MAX_INTERVAL, 0);
    return sources.create(RagRoutes.tenant(ctx), RagRoutes.id(ctx, "kbId"), plan, interval)
        .recover(failure -> Future.failedFuture(switch (RagException.errorOf(failure)) {
          case INVALID_INPUT -> new ApiProblem(400, "url_refused", "url", failure.getMessage());
          case CONFLICT -> new ApiProblem(409, "source_exists", "url", failure.getMessage());
          default -> failure;
        }))
        .map(WebSourceRoutes::json);
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    MultiMap query = RequestJson.query(ctx, Set.of("limit", "after"));
    return RagRoutes.cursorChecked(sources.list(RagRoutes.tenant(ctx), RagRoutes.id(ctx, "kbId"),
            RequestJson.uuid(query, "after"), RagRoutes.limit(query)))
        .map(page -> KnowledgeJson.page(page, WebSourceRoutes::json));
  }

  private Future<JsonObject> pages(RoutingContext ctx) {
    MultiMap query = RequestJson.query(ctx, Set.of("limit", "after"));
    return RagRoutes.cursorChecked(sources.pages(RagRoutes.tenant(ctx), RagRoutes.id(ctx, "kbId"),
            RagRoutes.id(ctx, "sourceId"), RequestJson.uuid(query, "after"), RagRoutes.limit(query)))
        .map(page -> KnowledgeJson.page(page, WebSourceRoutes::json));
  }

  static JsonObject json(WebSource s) {
    return new JsonObject().put("id", s.id().toString()).put("object", "knowledge_base.web_source")
        .put("knowledge_base_id", s.knowledgeBaseId().toString()).put("url", s.startUrl())
        .put("whole_site", s.wholeSite()).put("max_depth", s.maxDepth()).put("max_pages", s.maxPages())
        .put("sync_interval_minutes", s.syncIntervalMinutes()).put("status", s.status()).put("error", s.error())
        .put("pages", new JsonObject().put("found", s.pagesFound()).put("done", s.pagesDone())
            .put("added", s.pagesAdded()).put("updated", s.pagesUpdated()).put("unchanged", s.pagesUnchanged())
            .put("removed", s.pagesRemoved()).put("failed", s.pagesFailed()))
        .put("last_synced_at", time(s.lastSyncedAt())).put("next_sync_at", time(s.nextSyncAt()))
        .put("created_at", time(s.createdAt()));
  }

  static JsonObject json(WebSourcePage p) {
    return new JsonObject().put("id", p.id().toString()).put("object", "knowledge_base.web_page")
        .put("url", p.url()).put("depth", p.depth()).put("status", p.status()).put("error", p.error())
        .put("document_id", p.documentId() == null ? null : p.documentId().toString())
        .put("document_status", p.documentStatus()).put("document_progress", p.documentProgress())
        .put("fetched_at", time(p.fetchedAt()));
  }

  private static String time(OffsetDateTime t) {
    return t == null ? null : t.toString();
  }
}
