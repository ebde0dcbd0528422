package ai.deepchat.channel.wechat;

import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** A channel named in a log line or an error message never carries its secrets along. */
class ChannelConfigTest {

  @Test
  void itsTextNamesTheChannelButNoSecret() {
    ChannelConfig ch = new ChannelConfig(UUID.randomUUID(), UUID.randomUUID(), ChannelConfig.WECHAT, "Service",
        "wx123", null, "the-app-secret", "theToken42", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "safe", "", true);
    assertThat(ch.toString()).contains(ch.id().toString()).contains("Service").contains("wx123")
        .doesNotContain("the-app-secret").doesNotContain("theToken42").doesNotContain("abcdefghijklmnop");
  }
}
