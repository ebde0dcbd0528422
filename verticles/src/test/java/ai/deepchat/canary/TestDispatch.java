package ai.deepchat.canary;

import ai.deepchat.canary.guard.Outcome;
import ai.deepchat.canary.metrics.ShadowRecorder;
import ai.deepchat.canary.registry.ModelVersion;
import ai.deepchat.canary.rollout.Assignment;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;

import java.util.UUID;

/**
 * The minimal dispatch path the chat pipeline follows, over OpenAI-compatible endpoints: choose a
 * version, call it, report the outcome; if a candidate fails before answering, answer with the stable
 * fallback; if the assignment carries a shadow candidate, ask it too and hand its answer to the
 * recorder only. Returns what the caller would see.
 */
final class TestDispatch {

  record Answer(String text, UUID versionId, Future<ShadowRecorder.Stored> shadow) {
  }

  private final CanaryServices canary;
  private final WebClient client;

  TestDispatch(CanaryServices canary, WebClient client) {
    this.canary = canary;
    this.client = client;
  }

  Future<Answer> ask(UUID tenant, UUID conversation, String prompt) {
    return canary.chooser().choose(tenant, conversation).compose(opt -> {
      Assignment a = opt.orElseThrow();
      return call(a.version(), prompt).transform(ar -> {
        long elapsed = ar.succeeded() ? ar.result().elapsed : ar.cause() instanceof CallFailed cf ? cf.elapsed : 0;
        Outcome outcome = ar.succeeded() ? Outcome.success(elapsed, ar.result().tokens, elapsed)
            : Outcome.failure("backend_error", elapsed);
        Future<?> recorded = canary.outcomes().record(a, outcome);
        Future<Reply> answer = ar.succeeded() ? Future.succeededFuture(ar.result())
            : a.fallback() != null ? call(a.fallback(), prompt) : Future.failedFuture(ar.cause());
        return recorded.transform(x -> answer).map(reply -> {
          Future<ShadowRecorder.Stored> shadow = a.shadow() == null ? null : call(a.shadow(), prompt).transform(s ->
              canary.shadow().record(tenant, conversation, a, prompt, reply.text,
                  s.succeeded() ? s.result().text : null, s.succeeded() ? null : s.cause().getMessage()));
          return new Answer(reply.text, reply.version, shadow);
        });
      });
    });
  }

  private record Reply(String text, int tokens, long elapsed, UUID version) {
  }

  private static final class CallFailed extends RuntimeException {
    final long elapsed;

    CallFailed(String message, long elapsed) {
      super(message);
      this.elapsed = elapsed;
    }
  }

  private Future<Reply> call(ModelVersion v, String prompt) {
    long start = System.nanoTime();
    Promise<Reply> p = Promise.promise();
    client.postAbs(v.location() + "/v1/chat/completions")
        .sendJsonObject(new JsonObject().put("model", v.params().getString("model", v.name()))
            .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", prompt))))
        .onComplete(ar -> {
          long elapsed = (System.nanoTime() - start) / 1_000_000;
          if (ar.failed() || ar.result().statusCode() != 200) {
            p.fail(new CallFailed(ar.failed() ? ar.cause().getMessage() : "HTTP " + ar.result().statusCode(), elapsed));
            return;
          }
          JsonObject body = ar.result().bodyAsJsonObject();
          p.complete(new Reply(body.getJsonArray("choices").getJsonObject(0).getJsonObject("message")
              .getString("content"), body.getJsonObject("usage").getInteger("completion_tokens"), elapsed, v.id()));
        });
    return p.future();
  }
}
