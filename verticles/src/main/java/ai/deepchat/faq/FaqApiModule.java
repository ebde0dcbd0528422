package ai.deepchat.faq;

import ai.deepchat.chat.api.ApiKeyAuth;
import ai.deepchat.chat.api.Authenticated;
import ai.deepchat.chat.api.HttpProblem;
import ai.deepchat.chat.api.RateLimited;
import ai.deepchat.gateway.HttpErrors;
import ai.deepchat.platform.http.HttpModule;
import ai.deepchat.policy.ratelimit.RequestLimits;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.util.List;
import java.util.Set;

/**
 * FAQ answers in bulk for API callers (docs/api.md, "FAQ import and export"): {@code GET /v1/faq/export}
 * as CSV or XLSX, and {@code POST /v1/faq/import} of such a file, applied whole or not at all, with
 * every refused row reported. The tenant's API key authenticates, within its request limits.
 */
public final class FaqApiModule implements HttpModule {

  /** A spreadsheet of 10,000 long answers stays well below this. */
  public static final long MAX_IMPORT_BYTES = 10L * 1024 * 1024;
  private static final String TENANT = "faq.tenant";
  private static final String KEY = "faq.key";

  private final ApiKeyAuth auth;
  private final RequestLimits limits;
  private final FaqTransfer transfer;

  public FaqApiModule(ApiKeyAuth auth, RequestLimits limits, FaqTransfer transfer) {
    this.auth = auth;
    this.limits = limits;
    this.transfer = transfer;
  }

  @Override
  public void mount(Router router) {
    router.routeWithRegex("/v1/faq/(import|export)").handler(ctx -> Authenticated.first(ctx,
        c -> RateLimited.admitted(limits, auth, c), caller -> {
          ctx.put(TENANT, caller.tenantId());
          ctx.put(KEY, caller.keyId());
        }));
    router.post("/v1/faq/import").handler(BodyHandler.create(false).setBodyLimit(MAX_IMPORT_BYTES))
        .handler(this::importFile);
    router.get("/v1/faq/export").handler(BodyHandler.create(false).setBodyLimit(0)).handler(this::exportFile);
  }

  private void importFile(RoutingContext ctx) {
    try {
      MultiMap query = query(ctx, Set.of("format", "mode"));
      FaqFormat format = query.contains("format") ? FaqFormat.named(query.get("format"))
          : FaqFormat.detect(null, ctx.request().getHeader("Content-Type"));
      if (format == null) {
        throw HttpProblem.badRequest("invalid_value", "Send ?format=csv or ?format=xlsx, or the Content-Type "
            + "text/csv or " + FaqFormat.XLSX.contentType() + ".");
      }
      FaqStore.Mode mode = mode(query.get("mode"));
      Buffer body = ctx.body().buffer();
      if (body == null || body.length() == 0) {
        throw HttpProblem.badRequest("invalid_value", "The request body is empty; send the file as the body.");
      }
      transfer.importFile(ctx.get(TENANT), body, format, mode, "apikey:" + ctx.get(KEY), ip(ctx))
          .onSuccess(outcome -> {
            if (!outcome.applied()) {
              refuse(ctx, outcome.problems());
              return;
            }
            ctx.response().putHeader("Content-Type", "application/json; charset=utf-8").end(new JsonObject()
                .put("object", "faq.import").put("rows", outcome.rows()).put("inserted", outcome.imported().inserted())
                .put("updated", outcome.imported().updated()).put("deleted", outcome.imported().deleted()).encode());
          })
          .onFailure(err -> HttpProblem.of(err).send(ctx));
    } catch (HttpProblem p) {
      p.send(ctx);
    }
  }

  private void exportFile(RoutingContext ctx) {
    try {
      MultiMap query = query(ctx, Set.of("format"));
      FaqFormat format = query.contains("format") ? FaqFormat.named(query.get("format")) : FaqFormat.CSV;
      if (format == null) {
        throw HttpProblem.badRequest("invalid_value", "format must be csv or xlsx.");
      }
      transfer.export(ctx.get(TENANT), format)
          .onSuccess(file -> ctx.response().putHeader("Content-Type", format.contentType())
              .putHeader("Content-Disposition", "attachment; filename=\"faq." + format.extension() + "\"")
              .end(file))
          .onFailure(err -> HttpProblem.of(err).send(ctx));
    } catch (HttpProblem p) {
      p.send(ctx);
    }
  }

  static FaqStore.Mode mode(String raw) {
    if (raw == null || raw.equals("merge")) {
      return FaqStore.Mode.MERGE;
    }
    if (raw.equals("replace")) {
      return FaqStore.Mode.REPLACE;
    }
    throw HttpProblem.badRequest("invalid_value", "mode must be merge or replace.");
  }

  private static MultiMap query(RoutingContext ctx, Set<String> allowed) {
    for (String name : ctx.queryParams().names()) {
      if (!allowed.contains(name)) {
        throw HttpProblem.badRequest("invalid_value", "Unknown query parameter '" + name + "'.");
      }
    }
    return ctx.queryParams();
  }

  private static void refuse(RoutingContext ctx, List<FaqSheet.Problem> problems) {
    JsonArray rows = new JsonArray();
    problems.forEach(p -> rows.add(new JsonObject().put("row", p.row()).put("column", p.column())
        .put("message", p.message())));
    JsonObject body = HttpErrors.body(problems.size() + (problems.size() == 1 ? " problem" : " problems")
        + " in the file; nothing was imported.", "invalid_request_error", "invalid_rows");
    body.getJsonObject("error").put("param", "file").put("rows", rows);
    ctx.response().setStatusCode(400).putHeader("Content-Type", "application/json; charset=utf-8").end(body.encode());
  }

  private static String ip(RoutingContext ctx) {
    return ctx.request().remoteAddress() == null ? null : ctx.request().remoteAddress().hostAddress();
  }
}
