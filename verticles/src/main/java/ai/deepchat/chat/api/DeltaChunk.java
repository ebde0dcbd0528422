package ai.deepchat.chat.api;

import ai.deepchat.platform.chat.ChatMessages.TurnEvent;
import io.vertx.core.json.JsonObject;

/**
 * The SSE line of one delta event of a streamed completion, written straight into one builder: the
 * stream's pre-encoded envelope, the texts quoted by {@link JsonText} (so the bytes are those
 * {@link JsonObject#encode()} gave), no JSON tree per delta (#25). Tool-call
 * pieces, rare and nested, still go through a tree.
 */
final class DeltaChunk {

  private DeltaChunk() {
  }

  /** {@code deltaPrefix}: the chunk up to {@code "delta":}; the rest is the delta, log-probabilities and the end. */
  static String sse(String deltaPrefix, TurnEvent event) {
    StringBuilder sb = new StringBuilder(deltaPrefix.length() + 64 + length(event.content()) + 2 * length(event.reasoning()));
    sb.append(deltaPrefix);
    if (event.toolCalls() != null && !event.toolCalls().isEmpty()) {
      JsonObject delta = new JsonObject();
      if (event.content() != null) {
        delta.put("content", event.content());
      }
      if (event.reasoning() != null) {
        delta.put("reasoning_content", event.reasoning()).put("reasoning", event.reasoning());
      }
      sb.append(delta.put("tool_calls", ToolCallJson.pieces(event.toolCalls())).encode());
    } else {
      char sep = '{';
      if (event.content() != null) {
        JsonText.quoted(sb.append(sep).append("\"content\":"), event.content());
        sep = ',';
      }
      if (event.reasoning() != null) {
        // both names: vLLM renamed reasoning_content to reasoning, and clients read either
        JsonText.quoted(sb.append(sep).append("\"reasoning_content\":"), event.reasoning());
        JsonText.quoted(sb.append(",\"reasoning\":"), event.reasoning());
        sep = ',';
      }
      sb.append(sep == '{' ? "{}" : "}");
    }
    if (event.logprobs() != null && !event.logprobs().isEmpty()) {
      sb.append(",\"logprobs\":").append(LogprobsJson.content(event.logprobs()).encode());
    }
    return sb.append(",\"finish_reason\":null}]}\n\n").toString();
  }

  private static int length(String s) {
    return s == null ? 0 : s.length();
  }
}
