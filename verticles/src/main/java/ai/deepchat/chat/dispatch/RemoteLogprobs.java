package ai.deepchat.chat.dispatch;

import ai.deepchat.platform.engine.EngineMessages.TokenLogprob;
import ai.deepchat.platform.engine.EngineMessages.TopLogprob;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * The log-probabilities an OpenAI-compatible endpoint streams with a chunk ({@code choices[0].logprobs
 * .content}), read defensively: the endpoint is a tenant's URL, so entries that are not the documented
 * shape are skipped and sizes are capped, never trusted.
 */
final class RemoteLogprobs {

  private static final int MAX_TOKENS = 64;
  private static final int MAX_TOP = 20;
  private static final int MAX_TEXT = 256;

  private RemoteLogprobs() {
  }

  /** The entries of {@code logprobs} (null or malformed: none). */
  static List<TokenLogprob> of(JsonObject logprobs) {
    if (logprobs == null || !(logprobs.getValue("content") instanceof JsonArray content)) {
      return List.of();
    }
    List<TokenLogprob> out = new ArrayList<>();
    for (int i = 0; i < content.size() && out.size() < MAX_TOKENS; i++) {
      if (!(content.getValue(i) instanceof JsonObject entry) || !valid(entry)) {
        continue;
      }
      List<TopLogprob> top = new ArrayList<>();
      if (entry.getValue("top_logprobs") instanceof JsonArray alternatives) {
        for (int j = 0; j < alternatives.size() && top.size() < MAX_TOP; j++) {
          if (alternatives.getValue(j) instanceof JsonObject alt && valid(alt)) {
            top.add(new TopLogprob(alt.getString("token"), alt.getDouble("logprob"), bytes(alt)));
          }
        }
      }
      out.add(new TokenLogprob(entry.getString("token"), entry.getDouble("logprob"), bytes(entry), top));
    }
    return out;
  }

  private static boolean valid(JsonObject o) {
    return o.getValue("token") instanceof String t && t.length() <= MAX_TEXT && o.getValue("logprob") instanceof Number;
  }

  private static List<Integer> bytes(JsonObject o) {
    if (!(o.getValue("bytes") instanceof JsonArray arr) || arr.size() > MAX_TEXT * 4) {
      return null;
    }
    List<Integer> out = new ArrayList<>(arr.size());
    for (Object b : arr) {
      if (!(b instanceof Number n) || n.intValue() < 0 || n.intValue() > 255) {
        return null;
      }
      out.add(n.intValue());
    }
    return out;
  }
}
