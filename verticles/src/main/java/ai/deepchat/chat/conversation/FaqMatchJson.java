package ai.deepchat.chat.conversation;

import ai.deepchat.platform.chat.ChatMessages.TurnEvent;
import io.vertx.core.json.JsonObject;

/** The FAQ entry that answered, as both edges report it on the final event: {"id", "score"}. */
public final class FaqMatchJson {

  private FaqMatchJson() {
  }

  /** {@code target} with "faq" added when an FAQ entry answered the turn {@code done} ends. */
  public static JsonObject addTo(JsonObject target, TurnEvent done) {
    if (done.faqId() != null) {
      target.put("faq", new JsonObject().put("id", done.faqId()).put("score", done.score()));
    }
    return target;
  }
}
