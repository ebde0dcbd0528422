package ai.deepchat.chat.widget;

import ai.deepchat.platform.chat.ChatMessages.TurnAck;
import ai.deepchat.platform.chat.ChatMessages.TurnEvent;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The widget's delta message is written as text without a JSON tree (#25), byte for byte what the tree
 * gave, whatever the text holds; every other message is the tree's own encoding.
 */
class WidgetEventsTest {

  private static final TurnAck ACK = new TurnAck("t", "c", "u", "a", "m", false, false);

  @Test
  void aDeltaIsTheTextTheTreeGave() {
    for (String text : List.of("", " ok", "a \"quoted\" \\ back", "tab\tnew\nline\r\u0000\u001f\u007f",
        "中文 é ☃ 😀 \u2028\u2029 </script>")) {
      same(TurnEvent.delta("t", text, null));
      same(TurnEvent.delta("t", null, text));
      same(TurnEvent.delta("t", text, "think \"it\""));
    }
    same(TurnEvent.delta("t", null, null));
  }

  @Test
  void otherEventsAreTheTreesEncoding() {
    same(TurnEvent.done("t", "chat", new Usage(3, 5), "stop"));
    same(TurnEvent.error("t", "backend_error", "The model backend failed."));
  }

  private static void same(TurnEvent event) {
    assertThat(WidgetEvents.text(event, ACK)).as(String.valueOf(event)).isEqualTo(WidgetEvents.of(event, ACK).encode());
  }
}
