package ai.deepchat.datasets;

import ai.deepchat.policy.privacy.PiiMasker;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Set;

/**
 * The text of an example, in the line format its export file uses: an SFT example is OpenAI's chat
 * fine-tuning line {@code {"messages":[...]}} ending with the assistant's answer; a preference pair is
 * OpenAI's preference (DPO) line {@code {"input":{"messages":[...]},"preferred_output":[...],
 * "non_preferred_output":[...]}}. Every text goes through the PII masker on its way in, edits included.
 */
final class ExampleContent {

  static final String SFT = "sft";
  static final String PREFERENCE = "preference";
  private static final Set<String> ROLES = Set.of("system", "user", "assistant");
  private static final int MAX_MESSAGES = 200;
  private static final int MAX_TEXT = 100_000;

  private ExampleContent() {
  }

  static JsonObject message(String role, String content) {
    return new JsonObject().put("role", role).put("content", PiiMasker.mask(content));
  }

  static JsonObject sft(JsonArray context, String answer) {
    return new JsonObject().put("messages", masked(context).add(message("assistant", answer)));
  }

  static JsonObject preference(JsonArray input, String preferred, String nonPreferred) {
    return new JsonObject().put("input", new JsonObject().put("messages", masked(input)))
        .put("preferred_output", new JsonArray().add(message("assistant", preferred)))
        .put("non_preferred_output", new JsonArray().add(message("assistant", nonPreferred)));
  }

  /** The same pair with its two answers exchanged: a rater preferring the other one. */
  static JsonObject swapped(JsonObject pair) {
    return new JsonObject().put("input", pair.getJsonObject("input").copy())
        .put("preferred_output", pair.getJsonArray("non_preferred_output").copy())
        .put("non_preferred_output", pair.getJsonArray("preferred_output").copy());
  }

  /** A reviewer's edit, checked against the kind's shape and masked; a wrong shape is a 400 naming it. */
  static JsonObject edited(String kind, Object raw) {
    if (!(raw instanceof JsonObject c)) {
      throw DatasetFilters.invalid("content must be an object");
    }
    if (SFT.equals(kind)) {
      only(c, Set.of("messages"));
      JsonArray messages = messages(c.getValue("messages"), "content.messages");
      if (!"assistant".equals(messages.getJsonObject(messages.size() - 1).getString("role"))) {
        throw DatasetFilters.invalid("content.messages must end with the assistant's answer");
      }
      return new JsonObject().put("messages", messages);
    }
    only(c, Set.of("input", "preferred_output", "non_preferred_output"));
    if (!(c.getValue("input") instanceof JsonObject input)) {
      throw DatasetFilters.invalid("content.input must be an object {\"messages\": [...]}");
    }
    only(input, Set.of("messages"));
    return new JsonObject().put("input", new JsonObject().put("messages", messages(input.getValue("messages"),
            "content.input.messages")))
        .put("preferred_output", answer(c.getValue("preferred_output"), "content.preferred_output"))
        .put("non_preferred_output", answer(c.getValue("non_preferred_output"), "content.non_preferred_output"));
  }

  private static JsonArray masked(JsonArray messages) {
    JsonArray out = new JsonArray();
    for (Object m : messages) {
      JsonObject o = (JsonObject) m;
      out.add(message(o.getString("role"), o.getString("content")));
    }
    return out;
  }

  private static JsonArray answer(Object raw, String name) {
    JsonArray a = messages(raw, name);
    if (a.size() != 1 || !"assistant".equals(a.getJsonObject(0).getString("role"))) {
      throw DatasetFilters.invalid(name + " must hold exactly one assistant message");
    }
    return a;
  }

  private static JsonArray messages(Object raw, String name) {
    if (!(raw instanceof JsonArray a) || a.isEmpty() || a.size() > MAX_MESSAGES) {
      throw DatasetFilters.invalid(name + " must be an array of 1-" + MAX_MESSAGES + " messages");
    }
    JsonArray out = new JsonArray();
    for (Object m : a) {
      if (!(m instanceof JsonObject o) || o.size() != 2 || !(o.getValue("role") instanceof String role)
          || !ROLES.contains(role) || !(o.getValue("content") instanceof String text) || text.isEmpty()
          || text.length() > MAX_TEXT) {
        throw DatasetFilters.invalid(name + ": each message is {\"role\": system|user|assistant, \"content\": "
            + "non-empty text of at most " + MAX_TEXT + " characters}");
      }
      out.add(message(role, text));
    }
    return out;
  }

  private static void only(JsonObject o, Set<String> keys) {
    for (String k : o.fieldNames()) {
      if (!keys.contains(k)) {
        throw DatasetFilters.invalid("unknown field '" + k + "' in content");
      }
    }
  }
}
