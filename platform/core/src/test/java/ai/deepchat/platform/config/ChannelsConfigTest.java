package ai.deepchat.platform.config;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The channel lease's timings: a dead node's message is taken over within seconds by default, and a
 * heartbeat too slow for its lease (a live node would lose its messages) stops the node at start.
 */
class ChannelsConfigTest {

  private static PlatformConfig.Channels load(Map<String, String> env) {
    return ConfigLoader.load(env, new String[0]).channels();
  }

  @Test
  void defaultsTakeOverWithinSeconds() {
    PlatformConfig.Channels c = load(Map.of());
    assertThat(c.heartbeatMs()).isEqualTo(2500);
    assertThat(c.leaseSeconds()).isEqualTo(10);
    assertThat(c.sweepIntervalMs()).isEqualTo(2000);
    assertThat(load(Map.of("CHANNEL_LEASE_SECONDS", "2", "CHANNEL_HEARTBEAT_MS", "500")).heartbeatMs()).isEqualTo(500);
  }

  @Test
  void aHeartbeatAboveAThirdOfTheLeaseIsRefused() {
    assertThatThrownBy(() -> load(Map.of("CHANNEL_LEASE_SECONDS", "6", "CHANNEL_HEARTBEAT_MS", "2001")))
        .isInstanceOf(ConfigException.class)
        .hasMessage("CHANNEL_HEARTBEAT_MS: must be at most a third of CHANNEL_LEASE_SECONDS (6 s)");
    assertThat(load(Map.of("CHANNEL_LEASE_SECONDS", "6", "CHANNEL_HEARTBEAT_MS", "2000")).heartbeatMs()).isEqualTo(2000);
  }
}
