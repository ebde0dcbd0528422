package ai.deepchat.platform.config;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** TRUSTED_PROXIES (literal addresses and CIDR ranges only) and RATE_LIMIT_NEW_VISITORS_PER_MINUTE. */
class ClientAddressConfigTest {

  private static PlatformConfig load(Map<String, String> env) {
    return ConfigLoader.load(env, new String[0]);
  }

  @Test
  void noProxyIsTrustedByDefault() {
    PlatformConfig.Policy policy = load(Map.of()).policy();
    assertThat(policy.trustedProxies()).isEmpty();
    assertThat(policy.newVisitorsPerMinute()).isEqualTo(20);
    assertThat(load(Map.of("TRUSTED_PROXIES", " 127.0.0.5, 127.1.0.0/16 ,::1,fd00::/8",
        "RATE_LIMIT_NEW_VISITORS_PER_MINUTE", "5")).policy())
        .isEqualTo(new PlatformConfig.Policy(60, 100_000, List.of("127.0.0.5", "127.1.0.0/16", "::1", "fd00::/8"), 5));
  }

  @Test
  void namesAndBadRangesAreRefusedWithoutAnyLookup() {
    for (String bad : List.of("proxy.internal", "127.0.0.0/33", "::1/129", "127.0.0.1/", "127.0.0/8")) {
      try {
        load(Map.of("TRUSTED_PROXIES", bad));
        throw new AssertionError(bad + " was accepted");
      } catch (ConfigException e) {
        assertThat(e.getMessage()).startsWith("TRUSTED_PROXIES: '" + bad + "'");
      }
    }
  }
}
