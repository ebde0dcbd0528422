package ai.deepchat.canary.api;

import ai.deepchat.canary.CanaryServices;
import ai.deepchat.canary.registry.Actor;
import ai.deepchat.canary.registry.Backend;
import ai.deepchat.canary.registry.CanaryException;
import ai.deepchat.canary.registry.ModelRegistry.VersionSpec;
import ai.deepchat.canary.registry.ModelVersion;
import ai.deepchat.canary.registry.Scope;
import ai.deepchat.canary.rollout.Arm;
import ai.deepchat.canary.rollout.Rollout;
import ai.deepchat.canary.rollout.RolloutMode;
import ai.deepchat.canary.rollout.RolloutService.StartRequest;
import ai.deepchat.gateway.HttpErrors;
import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.engine.EngineMessages;
import ai.deepchat.platform.http.HttpModule;
import ai.deepchat.policy.privacy.ApiKeyAuth;
import ai.deepchat.policy.ratelimit.RequestLimits;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.pgclient.PgException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

/**
 * The automation API of model versions and rollouts, authenticated with the tenant's API key; every
 * id is looked up under the key's tenant, so another tenant's ids are simply not found (404). Bodies
 * are JSON objects of at most 64 KiB; errors use the OpenAI error shape. See docs/api.md, "Model
 * versions and rollouts".
 */
public final class CanaryApiModule implements HttpModule {

  private static final Logger LOG = LoggerFactory.getLogger(CanaryApiModule.class);
  private static final String VERSIONS = "/v1/admin/model-versions";
  private static final String ROLLOUTS = "/v1/admin/rollouts";

  private final Database database;
  private final CanaryServices canary;
  private final RequestLimits limits;

  /** {@code limits}: the API key's and tenant's request limits, applied to every admin call. */
  public CanaryApiModule(Database database, CanaryServices canary, RequestLimits limits) {
    this.database = database;
    this.canary = canary;
    this.limits = limits;
  }

  @Override
  public void mount(Router router) {
    BodyHandler body = BodyHandler.create(false).setBodyLimit(64 * 1024);
    ApiKeyAuth auth = new ApiKeyAuth(database, limits);
    // one route for the collections and everything under them: "/x" and "/x/*" would both match "/x",
    // authenticating and counting the request twice
    router.routeWithRegex("/v1/admin/(model-versions|rollouts)(/.*)?")
        .handler(body).handler(auth);
    router.get(VERSIONS).handler(json(200, ctx -> canary.registry().list(scope(ctx)).compose(this::versionList)));
    router.post(VERSIONS).handler(json(201, ctx -> canary.registry().create(scope(ctx),
        served(spec(JsonBodies.object(ctx), true), true), actor(ctx)).compose(this::versionJson)));
    router.get(VERSIONS + "/metrics").handler(json(200, ctx -> canary.summary().of(ctx.get(ApiKeyAuth.TENANT_ID))));
    router.get(VERSIONS + "/:id").handler(json(200, ctx -> canary.registry().get(scope(ctx),
        JsonBodies.pathId(ctx, "model version")).compose(this::versionJson)));
    router.patch(VERSIONS + "/:id").handler(json(200, this::patchVersion));
    router.post(VERSIONS + "/:id/activate").handler(json(200, ctx -> canary.registry().activate(scope(ctx),
        JsonBodies.pathId(ctx, "model version"), actor(ctx), JsonBodies.string(JsonBodies.object(ctx), "reason", 500))
        .compose(this::versionJson)));
    router.post(VERSIONS + "/:id/retire").handler(json(200, ctx -> canary.registry().retire(scope(ctx),
        JsonBodies.pathId(ctx, "model version"), actor(ctx)).compose(this::versionJson)));

    router.get(ROLLOUTS).handler(json(200, ctx -> canary.rollouts().list(scope(ctx), 100).map(list -> {
      JsonArray data = new JsonArray();
      list.forEach(r -> data.add(rolloutJson(r)));
      return new JsonObject().put("object", "list").put("data", data);
    })));
    router.post(ROLLOUTS).handler(json(201, ctx -> canary.rollouts().start(scope(ctx),
        startRequest(JsonBodies.object(ctx)), actor(ctx)).map(this::rolloutJson)));
    router.get(ROLLOUTS + "/:id").handler(json(200, ctx -> canary.rollouts().get(scope(ctx),
        JsonBodies.pathId(ctx, "rollout")).map(this::rolloutJson)));
    router.get(ROLLOUTS + "/:id/comparison").handler(json(200, ctx -> canary.comparison().of(
        ctx.get(ApiKeyAuth.TENANT_ID), JsonBodies.pathId(ctx, "rollout"))));
    router.patch(ROLLOUTS + "/:id").handler(json(200, this::setPercentage));
    router.post(ROLLOUTS + "/:id/promote").handler(json(200, ctx -> {
      JsonObject b = JsonBodies.object(ctx);
      return canary.rollouts().promote(scope(ctx), JsonBodies.pathId(ctx, "rollout"), JsonBodies.uuid(b, "versionId"),
          actor(ctx), JsonBodies.string(b, "reason", 500)).map(this::rolloutJson);
    }));
    router.post(ROLLOUTS + "/:id/rollback").handler(json(200, ctx -> {
      JsonObject b = JsonBodies.object(ctx);
      String reason = JsonBodies.string(b, "reason", 500);
      return canary.rollouts().rollback(scope(ctx), JsonBodies.pathId(ctx, "rollout"), actor(ctx),
          reason == null ? "rolled back by API" : reason, Map.of()).map(this::rolloutJson);
    }));
  }

  /** A route answering JSON; a request it refuses while reading (CanaryException) is a 4xx, not a 500. */
  private static Handler<RoutingContext> json(int status, Function<RoutingContext, Future<JsonObject>> work) {
    return ctx -> {
      Future<JsonObject> result;
      try {
        result = work.apply(ctx);
      } catch (CanaryException e) {
        result = Future.failedFuture(e);
      }
      result.onSuccess(json -> ctx.response().setStatusCode(status)
              .putHeader("Content-Type", "application/json; charset=utf-8").end(json.encode()))
          .onFailure(err -> fail(ctx, err));
    };
  }

  private Future<JsonObject> patchVersion(RoutingContext ctx) {
    JsonObject b = JsonBodies.object(ctx);
    UUID id = JsonBodies.pathId(ctx, "model version");
    String state = JsonBodies.string(b, "state", 20);
    if (state != null) {
      if (b.size() > 1) {
        throw CanaryException.invalid("change the state on its own, without other fields");
      }
      return switch (state) {
        case "retired" -> canary.registry().retire(scope(ctx), id, actor(ctx)).compose(this::versionJson);
        case "stable" -> canary.registry().activate(scope(ctx), id, actor(ctx), "set stable by API")
            .compose(this::versionJson);
        default -> throw CanaryException.invalid("state can be set to stable or retired here; canary and draft follow"
            + " from rollouts");
      };
    }
    return canary.registry().update(scope(ctx), id, served(spec(b, false), false), actor(ctx)).compose(this::versionJson);
  }

  /** A local version names a model key some live worker serves (a version that could never answer is refused). */
  private VersionSpec served(VersionSpec spec, boolean creating) {
    canary.registry().requireServed(spec, creating, canary.liveWorkers());
    return spec;
  }

  private Future<JsonObject> setPercentage(RoutingContext ctx) {
    JsonObject b = JsonBodies.object(ctx);
    Integer bp = JsonBodies.basisPoints(b, "percentage");
    if (bp == null || b.size() != 1) {
      throw CanaryException.invalid("only percentage can change on a rollout");
    }
    return canary.rollouts().setPercentage(scope(ctx), JsonBodies.pathId(ctx, "rollout"), bp, actor(ctx))
        .map(this::rolloutJson);
  }

  private static VersionSpec spec(JsonObject b, boolean creating) {
    for (String key : b.fieldNames()) {
      if (!List.of("name", "backend", "location", "modelKey", "adapter", "params", "systemPromptTemplate")
          .contains(key)) {
        throw CanaryException.invalid("unknown field '" + key + "'");
      }
    }
    String backendText = JsonBodies.string(b, "backend", 10);
    Backend backend;
    try {
      backend = backendText == null ? null : Backend.parse(backendText);
    } catch (IllegalArgumentException e) {
      throw CanaryException.invalid("backend must be local or openai");
    }
    String location = JsonBodies.string(b, "location", 500);
    String modelKey = JsonBodies.string(b, "modelKey", 100);
    if (modelKey != null) {
      if (location != null && !location.equals(modelKey) || backend != null && backend != Backend.LOCAL) {
        throw CanaryException.invalid("modelKey names a local version's location; give one of them");
      }
      location = modelKey;
      backend = backend == null && creating ? Backend.LOCAL : backend;
    }
    // a LoRA adapter over a local base model: served under the key "<base>+<adapter>"
    String adapter = JsonBodies.string(b, "adapter", 100);
    if (adapter != null) {
      if (location == null || backend != null && backend != Backend.LOCAL
          || location.contains(EngineMessages.ADAPTER_SEPARATOR)) {
        throw CanaryException.invalid("adapter goes with the modelKey (or location) of a local base model");
      }
      location = EngineMessages.adapterModelKey(location, adapter);
      backend = backend == null && creating ? Backend.LOCAL : backend;
    }
    return new VersionSpec(JsonBodies.string(b, "name", 100), backend, location, JsonBodies.object(b, "params"),
        JsonBodies.string(b, "systemPromptTemplate", 20_000));
  }

  private static StartRequest startRequest(JsonObject b) {
    RolloutMode mode;
    try {
      mode = RolloutMode.parse(String.valueOf(JsonBodies.string(b, "mode", 10)));
    } catch (IllegalArgumentException e) {
      throw CanaryException.invalid("mode must be canary, ab or shadow");
    }
    List<Arm> arms = new ArrayList<>();
    JsonArray a = JsonBodies.array(b, "arms");
    if (a != null) {
      for (Object item : a) {
        if (!(item instanceof JsonObject arm)) {
          throw CanaryException.invalid("each arm is an object {versionId, percentage}");
        }
        UUID version = JsonBodies.uuid(arm, "versionId");
        Integer bp = JsonBodies.basisPoints(arm, "percentage");
        if (version == null || bp == null) {
          throw CanaryException.invalid("each arm is an object {versionId, percentage}");
        }
        arms.add(new Arm(version, bp));
      }
    }
    Integer bp = JsonBodies.basisPoints(b, "percentage");
    Integer pairs = JsonBodies.basisPoints(b, "pairSampling");
    return new StartRequest(mode, JsonBodies.uuid(b, "candidateVersionId"), bp == null ? 0 : bp, arms,
        JsonBodies.object(b, "guards"), pairs == null ? 0 : pairs);
  }

  private Future<JsonObject> versionList(List<ModelVersion> list) {
    // serving is read from the rows themselves, not from a routing snapshot that may be reloading
    ModelVersion serving = list.stream().filter(v -> v.state() == ai.deepchat.canary.registry.VersionState.STABLE)
        .filter(v -> v.stableSince() != null)
        .max(java.util.Comparator.comparing(ModelVersion::stableSince)).orElse(null);
    JsonArray data = new JsonArray();
    list.forEach(v -> data.add(json(v, serving)));
    return Future.succeededFuture(new JsonObject().put("object", "list").put("data", data));
  }

  private Future<JsonObject> versionJson(ModelVersion v) {
    return canary.registry().list(scope(v)).compose(this::versionList).map(all -> all.getJsonArray("data").stream()
        .map(JsonObject.class::cast).filter(o -> o.getString("id").equals(v.id().toString())).findFirst()
        .orElseGet(() -> json(v, null)));
  }

  private JsonObject json(ModelVersion v, ModelVersion serving) {
    return v.toJson(serving != null && serving.id().equals(v.id())).put("live", canary.chooser().live(v));
  }

  private JsonObject rolloutJson(Rollout r) {
    return r.toJson(canary.rollouts().guardsOf(r));
  }

  private static Scope scope(ModelVersion v) {
    return v.tenantId() == null ? Scope.PLATFORM : Scope.tenant(v.tenantId());
  }

  private static Scope scope(RoutingContext ctx) {
    return Scope.tenant(ctx.get(ApiKeyAuth.TENANT_ID));
  }

  private static Actor actor(RoutingContext ctx) {
    String ip = ctx.request().remoteAddress() == null ? null : ctx.request().remoteAddress().hostAddress();
    return new Actor("apikey:" + ctx.get(ApiKeyAuth.API_KEY_ID), ip);
  }

  static void fail(RoutingContext ctx, Throwable err) {
    if (err instanceof CanaryException ce) {
      if (ctx.response().ended()) {
        return;
      }
      JsonObject body = HttpErrors.body(ce.getMessage(), ce.failure() == BusFailure.CONFLICT ? "conflict_error"
          : "invalid_request_error", ce.code());
      body.getJsonObject("error").put("param", ce.param());
      ctx.response().setStatusCode(ce.status()).putHeader("Content-Type", "application/json; charset=utf-8")
          .end(body.encode());
    } else if (err instanceof PgException) {
      // a statement the database rejects is a bug here, not an outage
      ctx.fail(500, err);
    } else {
      LOG.warn("model admin request failed: {}", err.toString());
      ctx.fail(503, err);
    }
  }
}
