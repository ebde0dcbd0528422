package ai.deepchat.chat.conversation;

import ai.deepchat.platform.chat.ChatMessages.Citation;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/** Citations as stored (messages.citations jsonb) and as sent to clients: [{n, title, section, documentId}]. */
public final class Citations {

  private Citations() {
  }

  public static JsonArray toJson(List<Citation> citations) {
    JsonArray arr = new JsonArray();
    if (citations != null) {
      for (Citation c : citations) {
        arr.add(new JsonObject().put("n", c.n()).put("title", c.title()).put("section", c.section())
            .put("documentId", c.documentId()));
      }
    }
    return arr;
  }

  public static List<Citation> fromJson(JsonArray arr) {
    List<Citation> list = new ArrayList<>();
    if (arr != null) {
      for (int i = 0; i < arr.size(); i++) {
        JsonObject o = arr.getJsonObject(i);
        list.add(new Citation(o.getInteger("n", i + 1), o.getString("title"), o.getString("section"),
            o.getString("documentId")));
      }
    }
    return list;
  }
}
