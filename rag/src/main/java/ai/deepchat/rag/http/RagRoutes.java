package ai.deepchat.rag.http;

import ai.deepchat.platform.http.NulText;
import ai.deepchat.platform.outbound.OutboundPolicy;
import ai.deepchat.rag.KnowledgeBaseChange;
import ai.deepchat.rag.KnowledgeBaseService;
import ai.deepchat.rag.Page;
import ai.deepchat.rag.RagConfig;
import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import ai.deepchat.rag.Retriever;
import ai.deepchat.rag.eval.EvalSetParser;
import ai.deepchat.rag.eval.Evaluations;
import ai.deepchat.rag.retrieve.HybridRetriever;
import ai.deepchat.rag.web.WebSources;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.FileUpload;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

/**
 * HTTP API of knowledge bases, to mount under {@code /v1/knowledge-bases} behind authentication:
 * {@code router.route("/v1/knowledge-bases/*").subRouter(RagRoutes.create(...))}. The tenant comes
 * from the routing context ({@code ctx.get("tenantId")}, a UUID or its string), put there by the
 * gateway's auth handler; without it every route answers 401. Documented in docs/api.md
 * ("Knowledge bases") and docs/openapi-knowledge.yaml.
 *
 * <pre>
 * POST   /                          {name, description?, embedding_model?}        201 knowledge base
 * GET    /?limit=&after=                                                          200 list
 * GET    /{kbId}                                                                  200 knowledge base
 * PATCH  /{kbId}                    {name?, description?, answers_chat?}          200 knowledge base
 * DELETE /{kbId}                                                                  204
 * POST   /{kbId}/documents          multipart field "file", or a raw body with
 *                                   ?filename= or X-Filename                      202 document (pending)
 * GET    /{kbId}/documents?limit=&after=&status=                                  200 list
 * GET    /{kbId}/documents/{docId}                                                200 document
 * DELETE /{kbId}/documents/{docId}                                                204
 * POST   /{kbId}/documents/{docId}/resync  ingest again from the stored original   202 document
 * POST   /{kbId}/documents/web      {url}: one page, fetched through OutboundPolicy 202 document (pending)
 * POST   /{kbId}/search             {query, top_k?}                               200 list of hits
 * ...    /{kbId}/web-sources        sites and pages kept in step ({@link WebSourceRoutes})
 * POST   /{kbId}/reembed            {embedding_model, switch?: auto|manual}:
 *                                   re-embed in the background                    202 knowledge base
 * POST   /{kbId}/reembed/switch     switch to a "ready" (manual) re-embedding      202 knowledge base
 * DELETE /{kbId}/reembed            cancel the running re-embedding                200 knowledge base
 * </pre>
 * Errors are {@code {"error": {"message", "type", "param", "code"}}} ({@link ApiProblem}); unknown
 * fields and out-of-range values are 400 naming the field; ids of another tenant, like malformed ids,
 * answer 404.
 */
public final class RagRoutes {

  private static final Logger LOG = LoggerFactory.getLogger(RagRoutes.class);
  private static final int DEFAULT_TOP_K = 5;
  private static final int MAX_NAME = 255;
  private static final int MAX_DESCRIPTION = 2_000;
  /** JSON bodies of this API are small; only uploads may be large. */
  private static final long MAX_JSON_BYTES = 64 * 1024;
  private static final String TENANT = "rag.tenant";
  // multipart framing around the file itself
  private static final long MULTIPART_SLACK = 64 * 1024;
  private static final Set<String> PAGING = Set.of("limit", "after");
  private static final Set<String> STATUSES = Set.of("pending", "processing", "ready", "failed");

  private final KnowledgeBaseService service;
  private final Retriever retriever;
  private final WebPages pages;

  private RagRoutes(KnowledgeBaseService service, Retriever retriever, WebPages pages) {
    this.pages = pages;
    this.service = service;
    this.retriever = retriever;
  }

  /** {@code outbound}: the platform's outbound policy, which every web import's fetch goes through. */
  public static Router create(Vertx vertx, KnowledgeBaseService service, Retriever retriever,
                              RagConfig config, OutboundPolicy outbound) {
    return create(vertx, service, retriever, config, outbound, null);
  }

  /** With the evaluation routes of {@link EvalRoutes} when {@code evaluations} is given. */
  public static Router create(Vertx vertx, KnowledgeBaseService service, Retriever retriever,
                              RagConfig config, OutboundPolicy outbound, Evaluations evaluations) {
    return create(vertx, service, retriever, config, outbound, evaluations, null);
  }

  /** With the web-source routes of {@link WebSourceRoutes} when {@code webSources} is given. */
  public static Router create(Vertx vertx, KnowledgeBaseService service, Retriever retriever,
                              RagConfig config, OutboundPolicy outbound, Evaluations evaluations,
                              WebSources webSources) {
    RagRoutes routes = new RagRoutes(service, retriever,
        new WebPages(vertx, outbound, config.dataDir().resolve("uploads"), config.maxUploadBytes()));
    Router router = Router.router(vertx);
    router.route().handler(RagRoutes::requireTenant);
    router.post("/:kbId/documents").handler(new UploadReceiver(vertx, config.dataDir().resolve("uploads"),
        config.maxUploadBytes(), MULTIPART_SLACK)).handler(json(202, routes::upload));
    // every other route reads a small JSON body, or none
    BodyHandler body = BodyHandler.create(false).setBodyLimit(MAX_JSON_BYTES);
    router.post("/").handler(body).handler(json(201, routes::createKnowledgeBase));
    router.get("/").handler(body).handler(json(200, routes::listKnowledgeBases));
    router.get("/:kbId").handler(body).handler(json(200, ctx -> routes.service.knowledgeBase(tenant(ctx),
        id(ctx, "kbId")).map(KnowledgeJson::knowledgeBase)));
    router.patch("/:kbId").handler(body).handler(json(200, routes::updateKnowledgeBase));
    router.delete("/:kbId").handler(body).handler(json(204, ctx -> routes.service.deleteKnowledgeBase(tenant(ctx),
        id(ctx, "kbId")).map(ignored -> null)));
    router.get("/:kbId/documents").handler(body).handler(json(200, routes::listDocuments));
    router.get("/:kbId/documents/:docId").handler(body).handler(json(200, ctx -> routes.service.document(
        tenant(ctx), id(ctx, "kbId"), id(ctx, "docId")).map(KnowledgeJson::document)));
    router.delete("/:kbId/documents/:docId").handler(body).handler(json(204, ctx -> routes.service.deleteDocument(
        tenant(ctx), id(ctx, "kbId"), id(ctx, "docId")).map(ignored -> null)));
    router.post("/:kbId/documents/:docId/resync").handler(body).handler(json(202, ctx -> routes.service.resync(
        tenant(ctx), id(ctx, "kbId"), id(ctx, "docId")).map(upload -> KnowledgeJson.document(upload.accepted()))));
    router.post("/:kbId/search").handler(body).handler(json(200, routes::search));
    router.post("/:kbId/documents/web").handler(body).handler(json(202, routes::importPage));
    if (webSources != null) {
      WebSourceRoutes.mount(router, webSources, body);
    }
    router.post("/:kbId/reembed").handler(body).handler(json(202, routes::startReembedding));
    router.post("/:kbId/reembed/switch").handler(body).handler(json(202, ctx -> routes.service.switchReembedding(
        tenant(ctx), id(ctx, "kbId")).map(KnowledgeJson::knowledgeBase)));
    router.delete("/:kbId/reembed").handler(body).handler(json(200, ctx -> routes.service.cancelReembedding(
        tenant(ctx), id(ctx, "kbId")).map(KnowledgeJson::knowledgeBase)));
    if (evaluations != null) {
      // a set of questions may be larger than the other routes' JSON bodies
      EvalRoutes.mount(router, evaluations, BodyHandler.create(false).setBodyLimit(EvalSetParser.MAX_SET_BYTES + 1));
    }
    router.route().handler(body);
    router.route().handler(ctx -> new ApiProblem(404, "not_found", null, "No such knowledge-base route: "
        + ctx.request().method() + " " + ctx.request().path()).send(ctx));
    router.route().failureHandler(RagRoutes::failure);
    return router;
  }

  private Future<JsonObject> createKnowledgeBase(RoutingContext ctx) {
    JsonObject body = RequestJson.object(ctx, Set.of("name", "description", "embedding_model"));
    String model = RequestJson.string(body, "embedding_model", 100, false);
    if (model != null && !KnowledgeBaseService.EMBEDDING_MODELS.contains(model)) {
      throw ApiProblem.invalid("embedding_model", "'embedding_model' must be one of "
          + KnowledgeBaseService.EMBEDDING_MODELS + ".");
    }
    return service.createKnowledgeBase(tenant(ctx), RequestJson.string(body, "name", MAX_NAME, true),
        RequestJson.text(body, "description", MAX_DESCRIPTION), model).map(KnowledgeJson::knowledgeBase);
  }

  private Future<JsonObject> listKnowledgeBases(RoutingContext ctx) {
    MultiMap query = RequestJson.query(ctx, PAGING);
    return cursorChecked(service.listKnowledgeBases(tenant(ctx), RequestJson.uuid(query, "after"), limit(query)))
        .map(page -> KnowledgeJson.page(page, KnowledgeJson::knowledgeBase));
  }

  private Future<JsonObject> updateKnowledgeBase(RoutingContext ctx) {
    JsonObject body = RequestJson.object(ctx, Set.of("name", "description", "answers_chat", "embedding_model"));
    if (body.containsKey("embedding_model")) {
      throw ApiProblem.invalid("embedding_model", "'embedding_model' cannot change here: POST "
          + "/v1/knowledge-bases/{id}/reembed re-embeds the knowledge base into another model.");
    }
    if (body.isEmpty()) {
      throw ApiProblem.invalid(null, "Nothing to change: send name, description or answers_chat.");
    }
    KnowledgeBaseChange change = new KnowledgeBaseChange(RequestJson.string(body, "name", MAX_NAME, false),
        RequestJson.text(body, "description", MAX_DESCRIPTION), RequestJson.bool(body, "answers_chat"));
    return service.updateKnowledgeBase(tenant(ctx), id(ctx, "kbId"), change).map(KnowledgeJson::knowledgeBase);
  }

  private Future<JsonObject> startReembedding(RoutingContext ctx) {
    JsonObject body = RequestJson.object(ctx, Set.of("embedding_model", "switch"));
    String model = RequestJson.string(body, "embedding_model", 100, true);
    if (!KnowledgeBaseService.EMBEDDING_MODELS.contains(model)) {
      throw ApiProblem.invalid("embedding_model", "'embedding_model' must be one of "
          + KnowledgeBaseService.EMBEDDING_MODELS + ".");
    }
    String switching = RequestJson.string(body, "switch", 10, false);
    if (switching != null && !Set.of("auto", "manual").contains(switching)) {
      throw ApiProblem.invalid("switch", "'switch' must be auto (when done) or manual (POST .../reembed/switch).");
    }
    return service.startReembedding(tenant(ctx), id(ctx, "kbId"), model, !"manual".equals(switching))
        .map(KnowledgeJson::knowledgeBase);
  }

  private Future<JsonObject> upload(RoutingContext ctx) {
    UUID tenant = tenant(ctx);
    UUID kb = id(ctx, "kbId");
    RequestJson.query(ctx, Set.of("filename"));
    List<FileUpload> files = ctx.fileUploads();
    Path content = UploadReceiver.file(ctx);
    String name;
    if (content != null) {
      name = ctx.queryParams().contains("filename") ? ctx.queryParams().get("filename")
          : ctx.request().getHeader("X-Filename");
    } else if (files.size() == 1) {
      name = files.get(0).fileName();
      content = Path.of(files.get(0).uploadedFileName());
    } else {
      throw ApiProblem.invalid("file", files.isEmpty() ? "The form has no file field." : "Send one file per request.");
    }
    return service.upload(tenant, kb, name, content).map(upload -> KnowledgeJson.document(upload.accepted()));
  }

  /** One web page as a document; importing the same URL again replaces it (re-embedded only if it changed). */
  private Future<JsonObject> importPage(RoutingContext ctx) {
    JsonObject body = RequestJson.object(ctx, Set.of("url"));
    String url = RequestJson.string(body, "url", 2_000, true);
    UUID tenant = tenant(ctx);
    UUID kb = id(ctx, "kbId");
    // the knowledge base first: another tenant's id fetches nothing
    return service.knowledgeBase(tenant, kb)
        .compose(base -> pages.fetch(url))
        .recover(failure -> Future.failedFuture(failure instanceof WebPages.Refused refused
            ? new ApiProblem(refused.status, refused.code, "url", refused.getMessage()) : failure))
        .compose(page -> service.upload(tenant, kb, page.sourceName(), page.file())
            .eventually(() -> ctx.vertx().fileSystem().delete(page.file().toString())))
        .map(upload -> KnowledgeJson.document(upload.accepted()));
  }

  private Future<JsonObject> listDocuments(RoutingContext ctx) {
    MultiMap query = RequestJson.query(ctx, Set.of("limit", "after", "status"));
    String status = query.get("status");
    if (status != null && !STATUSES.contains(status)) {
      throw ApiProblem.invalid("status", "'status' must be one of pending, processing, ready, failed.");
    }
    return cursorChecked(service.listDocuments(tenant(ctx), id(ctx, "kbId"), RequestJson.uuid(query, "after"),
        limit(query), status)).map(page -> KnowledgeJson.page(page, KnowledgeJson::document));
  }

  private Future<JsonObject> search(RoutingContext ctx) {
    JsonObject body = RequestJson.object(ctx, Set.of("query", "top_k"));
    String query = RequestJson.string(body, "query", HybridRetriever.MAX_QUERY_CHARS, true);
    int topK = RequestJson.integer(body, "top_k", 1, Retriever.MAX_TOP_K, DEFAULT_TOP_K);
    return retriever.retrieve(tenant(ctx), id(ctx, "kbId"), query, topK).map(KnowledgeJson::searchResults);
  }

  static int limit(MultiMap query) {
    return RequestJson.integer(query, "limit", 1, Page.MAX_LIMIT, Page.DEFAULT_LIMIT);
  }

  // the only input a listing's service call refuses is a cursor it cannot continue after
  static <T> Future<Page<T>> cursorChecked(Future<Page<T>> page) {
    return page.recover(failure -> Future.failedFuture(RagException.errorOf(failure) == RagError.INVALID_INPUT
        ? ApiProblem.invalid("after", failure.getMessage()) : failure));
  }

  /** A route answering JSON (or nothing for 204); a refusal while reading the request is a 4xx. */
  static Handler<RoutingContext> json(int status, Function<RoutingContext, Future<JsonObject>> work) {
    return ctx -> {
      Future<JsonObject> result;
      try {
        result = work.apply(ctx);
      } catch (ApiProblem | RagException refused) {
        result = Future.failedFuture(refused);
      }
      result.onSuccess(value -> {
        ctx.response().setStatusCode(status);
        if (value == null) {
          ctx.response().end();
        } else {
          ctx.response().putHeader("Content-Type", "application/json; charset=utf-8").end(value.encode());
        }
      }).onFailure(ctx::fail);
    };
  }

  private static void failure(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    ApiProblem problem;
    if (failure instanceof ApiProblem p) {
      problem = p;
    } else if (failure instanceof RagException rag) {
      problem = ApiProblem.of(rag);
    } else if (failure == null && ctx.statusCode() == 413) {
      problem = new ApiProblem(413, ctx.request().path().endsWith("/documents") ? "file_too_large" : "http_413",
          null, "The request body is above the size limit.");
    } else if (failure == null && ctx.statusCode() == 401) {
      problem = new ApiProblem(401, "invalid_api_key", null, "Authentication is required.");
    } else if (failure == null && ctx.statusCode() > 0 && ctx.statusCode() < 500) {
      problem = new ApiProblem(ctx.statusCode(), "http_" + ctx.statusCode(), null, "The request was refused.");
    } else {
      LOG.error("knowledge-base request {} {} failed", ctx.request().method(), ctx.request().path(), failure);
      problem = new ApiProblem(500, "internal_error", null, "Internal error; the request id identifies it in the logs.");
    }
    problem.send(ctx);
  }

  // Before the body is read: an unauthenticated upload is refused without buffering it.
  private static void requireTenant(RoutingContext ctx) {
    Object tenant = ctx.get("tenantId");
    UUID id = null;
    if (tenant instanceof UUID uuid) {
      id = uuid;
    } else if (tenant instanceof String s) {
      try {
        id = UUID.fromString(s);
      } catch (IllegalArgumentException malformed) {
        id = null;
      }
    }
    if (id == null) {
      ctx.fail(401);
      return;
    }
    ctx.put(TENANT, id);
    ctx.next();
  }

  static UUID tenant(RoutingContext ctx) {
    return ctx.get(TENANT);
  }

  static UUID id(RoutingContext ctx, String param) {
    try {
      return UUID.fromString(ctx.pathParam(param));
    } catch (IllegalArgumentException malformed) {
      throw new ApiProblem(404, "not_found", param, "Not found: " + ctx.pathParam(param));
    }
  }

  /** Answers {@code result} as JSON with {@code status} (nothing when it is null); a failure goes to {@link #failure}. */
  static void respond(RoutingContext ctx, int status, Future<?> result) {
    result.onSuccess(value -> {
      ctx.response().setStatusCode(status);
      if (value == null) {
        ctx.response().end();
      } else {
        ctx.response().putHeader("Content-Type", "application/json; charset=utf-8").end(value.toString());
      }
    }).onFailure(ctx::fail);
  }

  static JsonObject jsonBody(RoutingContext ctx) {
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      throw new RagException(RagError.INVALID_INPUT, "the body is not a JSON object");
    }
    String nul = NulText.find(body);
    if (nul != null) {
      throw new RagException(RagError.INVALID_INPUT, nul + " contains a NUL character (\\u0000)");
    }
    return body == null ? new JsonObject() : body;
  }
}
