package ai.deepchat.chat.api;

import ai.deepchat.platform.engine.EngineMessages.TokenLogprob;
import ai.deepchat.platform.engine.EngineMessages.TopLogprob;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/** Log-probabilities in OpenAI's chat shape: {@code {"content": [{token, logprob, bytes, top_logprobs}]}}. */
final class LogprobsJson {

  private LogprobsJson() {
  }

  static JsonObject content(List<TokenLogprob> tokens) {
    JsonArray content = new JsonArray();
    for (TokenLogprob t : tokens) {
      JsonArray top = new JsonArray();
      if (t.top() != null) {
        for (TopLogprob alt : t.top()) {
          top.add(entry(alt.token(), alt.logprob(), alt.bytes()));
        }
      }
      content.add(entry(t.token(), t.logprob(), t.bytes()).put("top_logprobs", top));
    }
    return new JsonObject().put("content", content);
  }

  private static JsonObject entry(String token, double logprob, List<Integer> bytes) {
    return new JsonObject().put("token", token).put("logprob", logprob)
        .put("bytes", bytes == null ? null : new JsonArray(bytes));
  }
}
