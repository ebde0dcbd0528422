package ai.deepchat.platform.config;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** CHAT_MAX_CHOICES: the highest n of one API request, 8 by default, 1 to 16. */
class ChatChoicesConfigTest {

  @Test
  void defaultsToEightAndIsBounded() {
    assertThat(ConfigLoader.load(Map.of(), new String[0]).chat().maxChoices()).isEqualTo(8);
    assertThat(ConfigLoader.load(Map.of("CHAT_MAX_CHOICES", "2"), new String[0]).chat().maxChoices()).isEqualTo(2);
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("CHAT_MAX_CHOICES", "17"), new String[0]))
        .isInstanceOf(ConfigException.class).hasMessage("CHAT_MAX_CHOICES: '17' is outside 1..16");
  }
}
