package ai.deepchat.chat.conversation;

import ai.deepchat.platform.chat.TurnTrace;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import io.vertx.core.json.JsonObject;

/**
 * A {@link TurnTrace} as stored (messages.trace jsonb) and as API callers and the console get it: the
 * record's fields in snake_case, like the rest of the API's JSON ({@code prompt_tokens}).
 */
public final class TraceJson {

  private static final ObjectMapper MAPPER = new ObjectMapper()
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

  private TraceJson() {
  }

  public static JsonObject toJson(TurnTrace trace) {
    try {
      return new JsonObject(MAPPER.writeValueAsString(trace));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a trace could not be encoded", e); // records of strings and numbers: never
    }
  }
}
