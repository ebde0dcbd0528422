package ai.deepchat.chat.api;

import ai.deepchat.platform.Platform;
import ai.deepchat.platform.embed.Embedder;
import ai.deepchat.platform.concurrent.WorkerPools;
import ai.deepchat.platform.http.HttpModule;
import ai.deepchat.policy.ratelimit.RequestLimits;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /v1/embeddings}: the node's in-process embedding models behind the OpenAI API, for the
 * workspace's API keys and within their rate limits. The texts of one request are one batch on the
 * {@code embeddings} worker pool; usage counts the model's own tokens. A text longer than the model
 * reads is refused, not clipped, as OpenAI does.
 */
public final class EmbeddingsApiModule implements HttpModule {

  private final Platform platform;
  private final ApiKeyAuth auth;
  private final RequestLimits limits;
  private final Map<String, Embedder> models;

  public EmbeddingsApiModule(Platform platform, RequestLimits limits, Map<String, Embedder> models) {
    this.platform = platform;
    this.auth = new ApiKeyAuth(platform.database());
    this.limits = limits;
    this.models = Map.copyOf(models);
  }

  @Override
  public void mount(Router router) {
    router.post("/v1/embeddings")
        .handler(BodyHandler.create(false).setBodyLimit(platform.config().chat().maxBodyBytes()))
        .handler(this::embed);
  }

  private void embed(RoutingContext ctx) {
    RateLimited.admitted(limits, auth, ctx)
        .map(caller -> EmbeddingsRequest.parse(StrictJson.object(ctx.body().buffer())))
        .compose(request -> {
          Embedder model = models.get(request.model());
          if (model == null) {
            throw HttpProblem.notFound("model_not_found", "The embedding model '" + request.model()
                + "' does not exist; this node serves " + String.join(", ", models.keySet().stream().sorted().toList())
                + ".");
          }
          if (request.dimensions() != null && request.dimensions() != model.dimension()) {
            throw HttpProblem.badRequest("invalid_dimensions", model.name() + " has " + model.dimension()
                + " dimensions; 'dimensions' cannot change that.");
          }
          for (int i = 0; i < request.input().size(); i++) {
            if (!model.fits(request.input().get(i))) {
              throw HttpProblem.badRequest("input_too_long", (request.input().size() == 1 ? "input" : "input[" + i + "]")
                  + " is longer than " + model.name() + " reads (512 tokens); split it.");
            }
          }
          return WorkerPools.of(ctx.vertx()).open(WorkerPools.Kind.EMBEDDINGS)
              .executeBlocking(() -> model.embedCounted(request.input()), false)
              .map(counted -> response(request, model, counted));
        })
        .onSuccess(ctx::json)
        .onFailure(err -> RateLimited.send(ctx, err));
  }

  private static JsonObject response(EmbeddingsRequest request, Embedder model, Embedder.Counted counted) {
    JsonArray data = new JsonArray();
    List<float[]> vectors = counted.vectors();
    for (int i = 0; i < vectors.size(); i++) {
      data.add(new JsonObject().put("object", "embedding").put("index", i)
          .put("embedding", request.base64() ? base64(vectors.get(i)) : floats(vectors.get(i))));
    }
    return new JsonObject().put("object", "list").put("data", data).put("model", model.name())
        .put("usage", new JsonObject().put("prompt_tokens", counted.tokens()).put("total_tokens", counted.tokens()));
  }

  private static JsonArray floats(float[] vector) {
    JsonArray out = new JsonArray();
    for (float v : vector) {
      out.add(v);
    }
    return out;
  }

  /** OpenAI's base64 form: the float32 values little-endian, as numpy's frombuffer reads them. */
  private static String base64(float[] vector) {
    ByteBuffer bytes = ByteBuffer.allocate(vector.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(vector);
    return Base64.getEncoder().encodeToString(bytes.array());
  }
}
