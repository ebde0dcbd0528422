package ai.deepchat.rag.http;

import ai.deepchat.rag.KnowledgeBaseService;
import ai.deepchat.rag.RagConfig;
import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import ai.deepchat.rag.Retriever;
import ai.deepchat.rag.eval.Evaluations;
import ai.deepchat.platform.http.NulText;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.FileUpload;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.UUID;

/**
 * HTTP API of knowledge bases, to mount under {@code /v1/knowledge-bases} behind authentication:
 * {@code router.route("/v1/knowledge-bases/*").subRouter(RagRoutes.create(...))}. The tenant comes
 * from the routing context ({@code ctx.get("tenantId")}, a UUID or its string), put there by the
 * gateway's auth handler; without it every route answers 401.
 *
 * <pre>
 * POST   /                          {"name", "description"?, "embeddingModel"?}   201 knowledge base
 * GET    /                                                                       200 [knowledge base]
 * GET    /{kbId}                                                                 200 knowledge base
 * POST   /{kbId}/documents          multipart field "file", or a raw body with
 *                                   ?filename= or X-Filename                     202 document (pending)
 * GET    /{kbId}/documents                                                       200 [document with status, progress]
 * GET    /{kbId}/documents/{docId}                                               200 document
 * DELETE /{kbId}/documents/{docId}                                               204
 * POST   /{kbId}/search             {"query", "topK"?}                           200 {knowledgeBaseId, knowledgeBaseVersion, hits}
 * </pre>
 * Errors are {@code {"error": CODE, "message": ...}} with the status of {@link RagError}; ids of
 * another tenant, like malformed ids, answer 404.
 */
public final class RagRoutes {

  private static final Logger LOG = LoggerFactory.getLogger(RagRoutes.class);
  private static final int DEFAULT_TOP_K = 5;
  private static final String TENANT = "rag.tenant";
  // multipart framing around the file itself
  private static final long MULTIPART_SLACK = 64 * 1024;

  private final KnowledgeBaseService service;
  private final Retriever retriever;
  private final Vertx vertx;

  private RagRoutes(Vertx vertx, KnowledgeBaseService service, Retriever retriever) {
    this.vertx = vertx;
    this.service = service;
    this.retriever = retriever;
  }

  public static Router create(Vertx vertx, KnowledgeBaseService service, Retriever retriever,
                              RagConfig config) {
    return create(vertx, service, retriever, config, null);
  }

  /** With the evaluation routes of {@link EvalRoutes} when {@code evaluations} is given. */
  public static Router create(Vertx vertx, KnowledgeBaseService service, Retriever retriever,
                              RagConfig config, Evaluations evaluations) {
    RagRoutes routes = new RagRoutes(vertx, service, retriever);
    Router router = Router.router(vertx);
    router.route().handler(RagRoutes::requireTenant);
    router.route().handler(BodyHandler.create()
        .setBodyLimit(config.maxUploadBytes() + MULTIPART_SLACK)
        .setUploadsDirectory(config.dataDir().resolve("uploads").toString())
        .setDeleteUploadedFilesOnEnd(true));
    router.post("/").handler(routes::createKnowledgeBase);
    router.get("/").handler(routes::listKnowledgeBases);
    router.get("/:kbId").handler(routes::knowledgeBase);
    router.post("/:kbId/documents").handler(routes::upload);
    router.get("/:kbId/documents").handler(routes::listDocuments);
    router.get("/:kbId/documents/:docId").handler(routes::document);
    router.delete("/:kbId/documents/:docId").handler(routes::deleteDocument);
    router.post("/:kbId/search").handler(routes::search);
    if (evaluations != null) {
      EvalRoutes.mount(router, evaluations);
    }
    router.route().failureHandler(RagRoutes::failure);
    return router;
  }

  private void createKnowledgeBase(RoutingContext ctx) {
    JsonObject body = jsonBody(ctx);
    respond(ctx, 201, service.createKnowledgeBase(tenant(ctx), body.getString("name"),
        body.getString("description"), body.getString("embeddingModel")).map(JsonObject::mapFrom));
  }

  private void listKnowledgeBases(RoutingContext ctx) {
    respond(ctx, 200, service.listKnowledgeBases(tenant(ctx)).map(RagRoutes::array));
  }

  private void knowledgeBase(RoutingContext ctx) {
    respond(ctx, 200, service.knowledgeBase(tenant(ctx), id(ctx, "kbId")).map(JsonObject::mapFrom));
  }

  private void upload(RoutingContext ctx) {
    UUID tenant = tenant(ctx);
    UUID kb = id(ctx, "kbId");
    List<FileUpload> files = ctx.fileUploads();
    Future<Buffer> content;
    String name;
    if (!files.isEmpty()) {
      FileUpload file = files.get(0);
      name = file.fileName();
      content = vertx.fileSystem().readFile(file.uploadedFileName());
    } else {
      name = ctx.queryParams().contains("filename") ? ctx.queryParams().get("filename")
          : ctx.request().getHeader("X-Filename");
      Buffer body = ctx.body().buffer();
      content = Future.succeededFuture(body == null ? Buffer.buffer() : body);
    }
    respond(ctx, 202, content
        .compose(bytes -> service.upload(tenant, kb, name, bytes))
        .map(upload -> JsonObject.mapFrom(upload.accepted())));
  }

  private void listDocuments(RoutingContext ctx) {
    respond(ctx, 200, service.listDocuments(tenant(ctx), id(ctx, "kbId")).map(RagRoutes::array));
  }

  private void document(RoutingContext ctx) {
    respond(ctx, 200, service.document(tenant(ctx), id(ctx, "kbId"), id(ctx, "docId"))
        .map(JsonObject::mapFrom));
  }

  private void deleteDocument(RoutingContext ctx) {
    respond(ctx, 204, service.deleteDocument(tenant(ctx), id(ctx, "kbId"), id(ctx, "docId"))
        .map(ignored -> null));
  }

  private void search(RoutingContext ctx) {
    JsonObject body = jsonBody(ctx);
    Object topK = body.getValue("topK", DEFAULT_TOP_K);
    if (!(topK instanceof Number)) {
      throw new RagException(RagError.INVALID_INPUT, "topK must be a number");
    }
    respond(ctx, 200, retriever.retrieve(tenant(ctx), id(ctx, "kbId"), body.getString("query"),
        ((Number) topK).intValue()).map(JsonObject::mapFrom));
  }

  static void respond(RoutingContext ctx, int status, Future<?> result) {
    result.onSuccess(value -> {
      ctx.response().setStatusCode(status);
      if (value == null) {
        ctx.response().end();
      } else {
        ctx.response().putHeader("Content-Type", "application/json").end(value.toString());
      }
    }).onFailure(ctx::fail);
  }

  private static void failure(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    int status;
    String code;
    String message;
    if (failure instanceof RagException rag) {
      status = rag.error().httpStatus();
      code = rag.error().name();
      message = rag.getMessage();
    } else if (failure == null && ctx.statusCode() == 413) {
      status = 413;
      code = RagError.TOO_LARGE.name();
      message = "the upload is above the size limit";
    } else if (failure == null && ctx.statusCode() > 0 && ctx.statusCode() < 500) {
      status = ctx.statusCode();
      code = status == 401 ? "UNAUTHENTICATED" : RagError.INVALID_INPUT.name();
      message = "request refused";
    } else {
      LOG.error("knowledge-base request {} {} failed", ctx.request().method(), ctx.request().path(),
          failure);
      status = 500;
      code = RagError.INTERNAL.name();
      message = "internal error";
    }
    if (!ctx.response().ended()) {
      ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("error", code).put("message", message).encode());
    }
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
      throw new RagException(RagError.NOT_FOUND, "not found: " + ctx.pathParam(param));
    }
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

  private static JsonArray array(List<?> values) {
    return new JsonArray(values.stream().map(JsonObject::mapFrom).toList());
  }
}
