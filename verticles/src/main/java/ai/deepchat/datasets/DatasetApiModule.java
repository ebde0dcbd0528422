package ai.deepchat.datasets;

import ai.deepchat.chat.api.ApiKeyAuth;
import ai.deepchat.chat.api.Authenticated;
import ai.deepchat.chat.api.HttpProblem;
import ai.deepchat.chat.api.RateLimited;
import ai.deepchat.platform.http.HttpModule;
import ai.deepchat.policy.ratelimit.RequestLimits;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

/**
 * Fine-tuning datasets for API callers (docs/api.md, "Datasets"), with the tenant's API key: datasets and
 * their filters, building examples, the review queue, frozen versions and their JSONL files, streamed.
 * Ids of another tenant are not found (404); errors use the OpenAI error shape.
 */
public final class DatasetApiModule implements HttpModule {

  private static final String BASE = "/v1/admin/datasets";
  private static final String TENANT = "datasets.tenant";
  private static final String KEY = "datasets.key";
  private static final Set<String> STATUSES = Set.of("pending", "accepted", "rejected");
  private static final Set<String> KINDS = Set.of(ExampleContent.SFT, ExampleContent.PREFERENCE);

  private final ApiKeyAuth auth;
  private final RequestLimits limits;
  private final DatasetStore store;

  public DatasetApiModule(ApiKeyAuth auth, RequestLimits limits, DatasetStore store) {
    this.auth = auth;
    this.limits = limits;
    this.store = store;
  }

  @Override
  public void mount(Router router) {
    // one route for the collection and everything under it, so a request is authenticated and counted once
    router.routeWithRegex(BASE + "(/.*)?").handler(ctx -> Authenticated.first(ctx,
        c -> RateLimited.admitted(limits, auth, c), caller -> {
          ctx.put(TENANT, caller.tenantId());
          ctx.put(KEY, caller.keyId());
        }));
    router.routeWithRegex(BASE + "(/.*)?").handler(BodyHandler.create(false).setBodyLimit(1024 * 1024));
    router.get(BASE).handler(json(200, ctx -> store.list(tenant(ctx))));
    router.post(BASE).handler(json(201, ctx -> {
      JsonObject b = body(ctx, Set.of("name", "filters"));
      Object name = b.getValue("name");
      if (!(name instanceof String n) || n.isBlank() || n.length() > 100) {
        throw DatasetFilters.invalid("name must be text of 1-100 characters");
      }
      return store.create(tenant(ctx), n.strip(), DatasetFilters.parse(b.getValue("filters")), actor(ctx));
    }));
    router.get(BASE + "/:id").handler(json(200, ctx -> store.get(tenant(ctx), id(ctx, "id"))));
    router.delete(BASE + "/:id").handler(json(200, ctx -> {
      UUID id = id(ctx, "id");
      return store.delete(tenant(ctx), id, actor(ctx)).map(v -> new JsonObject().put("object", "dataset.deleted")
          .put("id", id.toString()).put("deleted", true));
    }));
    router.post(BASE + "/:id/build").handler(json(200, ctx -> store.build(tenant(ctx), id(ctx, "id"), actor(ctx))));
    router.get(BASE + "/:id/examples").handler(json(200, ctx -> {
      String status = choice(ctx, "status", STATUSES);
      String kind = choice(ctx, "kind", KINDS);
      String source = choice(ctx, "source", Set.copyOf(DatasetFilters.SOURCES));
      String after = ctx.queryParams().get("after");
      return store.examples(tenant(ctx), id(ctx, "id"), status, kind, source, after == null ? null : uuid(after, "after"),
          limit(ctx.queryParams().get("limit")));
    }));
    router.patch(BASE + "/:id/examples/:example").handler(json(200, ctx -> {
      JsonObject b = body(ctx, Set.of("status", "content", "prefer"));
      Object status = b.getValue("status");
      if (status != null && !STATUSES.contains(status)) {
        throw DatasetFilters.invalid("status must be pending, accepted or rejected");
      }
      Object prefer = b.getValue("prefer");
      if (prefer != null && !(prefer instanceof String)) {
        throw DatasetFilters.invalid("prefer must be preferred_output or non_preferred_output");
      }
      if (b.isEmpty()) {
        throw DatasetFilters.invalid("send status, content or prefer");
      }
      return store.review(tenant(ctx), id(ctx, "id"), id(ctx, "example"),
          new DatasetStore.Review((String) status, b.getValue("content"), (String) prefer), actor(ctx));
    }));
    router.get(BASE + "/:id/versions").handler(json(200, ctx -> store.versions(tenant(ctx), id(ctx, "id"))));
    router.post(BASE + "/:id/versions").handler(json(201, ctx -> store.freeze(tenant(ctx), id(ctx, "id"), actor(ctx))));
    router.getWithRegex(BASE + "/(?<id>[^/]+)/versions/(?<number>[0-9]{1,9})/(?<kind>sft|preference)\\.jsonl")
        .handler(this::export);
  }

  private void export(RoutingContext ctx) {
    UUID id;
    try {
      id = id(ctx, "id");
    } catch (HttpProblem p) {
      p.send(ctx);
      return;
    }
    JsonlDownload.send(store, tenant(ctx), id, Integer.parseInt(ctx.pathParam("number")), ctx.pathParam("kind"),
        actor(ctx), ctx.response(), err -> HttpProblem.of(err).send(ctx));
  }

  /** A route answering JSON; a request it refuses while reading (HttpProblem) is a 4xx, not a 500. */
  private static io.vertx.core.Handler<RoutingContext> json(int status, Function<RoutingContext, Future<JsonObject>> work) {
    return ctx -> {
      Future<JsonObject> result;
      try {
        result = work.apply(ctx);
      } catch (HttpProblem p) {
        result = Future.failedFuture(p);
      }
      result.onSuccess(json -> ctx.response().setStatusCode(status)
              .putHeader("Content-Type", "application/json; charset=utf-8").end(json.encode()))
          .onFailure(err -> HttpProblem.of(err).send(ctx));
    };
  }

  private static JsonObject body(RoutingContext ctx, Set<String> fields) {
    Buffer raw = ctx.body().buffer();
    JsonObject b;
    try {
      b = raw == null || raw.length() == 0 ? new JsonObject() : new JsonObject(raw);
    } catch (DecodeException | ClassCastException e) {
      throw DatasetFilters.invalid("the body must be a JSON object");
    }
    for (String key : b.fieldNames()) {
      if (!fields.contains(key)) {
        throw DatasetFilters.invalid("unknown field '" + key + "'");
      }
    }
    return b;
  }

  private static String choice(RoutingContext ctx, String name, Set<String> allowed) {
    String v = ctx.queryParams().get(name);
    if (v != null && !allowed.contains(v)) {
      throw DatasetFilters.invalid(name + " must be one of " + String.join(", ", allowed.stream().sorted().toList()));
    }
    return v;
  }

  private static int limit(String raw) {
    if (raw == null) {
      return 50;
    }
    try {
      int n = Integer.parseInt(raw);
      if (n >= 1 && n <= 200) {
        return n;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw DatasetFilters.invalid("limit must be a number from 1 to 200");
  }

  /** A path id; one that is not a UUID cannot name anything, so it is simply not found. */
  private static UUID id(RoutingContext ctx, String param) {
    try {
      return UUID.fromString(ctx.pathParam(param));
    } catch (IllegalArgumentException | NullPointerException e) {
      throw DatasetStore.notFound("id".equals(param) ? "dataset" : "example");
    }
  }

  private static UUID uuid(String raw, String name) {
    try {
      return UUID.fromString(raw);
    } catch (IllegalArgumentException e) {
      throw DatasetFilters.invalid(name + " must be an example id");
    }
  }

  private static UUID tenant(RoutingContext ctx) {
    return ctx.get(TENANT);
  }

  private static DatasetStore.Actor actor(RoutingContext ctx) {
    String ip = ctx.request().remoteAddress() == null ? null : ctx.request().remoteAddress().hostAddress();
    return new DatasetStore.Actor("apikey:" + ctx.get(KEY), ip);
  }
}
