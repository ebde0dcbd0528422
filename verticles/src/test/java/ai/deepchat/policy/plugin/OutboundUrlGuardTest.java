package ai.deepchat.policy.plugin;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OutboundUrlGuardTest {

  private final OutboundUrlGuard.Policy policy = new OutboundUrlGuard.Policy(
      Set.of("shop.example.com", "Legacy.Example.com"), Set.of("legacy.example.com"), false);

  @Test
  void acceptsAllowListedHttpsUrls() {
    OutboundUrlGuard.Target t = OutboundUrlGuard.checkUrl("https://SHOP.example.com/api/orders/1?x=1", policy);
    assertThat(t).isEqualTo(new OutboundUrlGuard.Target("shop.example.com", 443, true, "/api/orders/1?x=1"));
    assertThat(OutboundUrlGuard.checkUrl("http://legacy.example.com:8080/o", policy).port()).isEqualTo(8080);
  }

  @Test
  void refusesHostsNotOnTheListExactly() {
    assertThatThrownBy(() -> OutboundUrlGuard.checkUrl("https://evil.com/", policy)).hasMessageContaining("allow-list");
    assertThatThrownBy(() -> OutboundUrlGuard.checkUrl("https://api.shop.example.com/", policy)).hasMessageContaining("allow-list");
    assertThatThrownBy(() -> OutboundUrlGuard.checkUrl("https://shop.example.com.evil.com/", policy)).hasMessageContaining("allow-list");
  }

  @Test
  void refusesPlainHttpOtherSchemesAndUserInfo() {
    assertThatThrownBy(() -> OutboundUrlGuard.checkUrl("http://shop.example.com/", policy)).hasMessageContaining("https required");
    assertThatThrownBy(() -> OutboundUrlGuard.checkUrl("ftp://shop.example.com/", policy)).hasMessageContaining("scheme");
    assertThatThrownBy(() -> OutboundUrlGuard.checkUrl("file:///etc/passwd", policy)).isInstanceOf(OutboundUrlGuard.RefusedException.class);
    assertThatThrownBy(() -> OutboundUrlGuard.checkUrl("https://user:pw@shop.example.com/", policy)).hasMessageContaining("user info");
  }

  @Test
  void refusesInternalAddresses() throws Exception {
    String[][] cases = {
        {"127.0.0.1", "loopback"}, {"127.8.9.10", "loopback"}, {"::1", "loopback"},
        {"169.254.169.254", "link-local"}, {"fe80::1", "link-local"},
        {"10.1.2.3", "private"}, {"172.16.0.1", "private"}, {"172.31.255.255", "private"}, {"192.168.1.1", "private"},
        {"fc00::1", "private"}, {"fd12:3456::1", "private"}, {"100.64.0.1", "private"},
        {"224.0.0.1", "multicast"}, {"ff02::1", "multicast"},
        {"0.0.0.0", "unspecified"}, {"::", "unspecified"}, {"0.1.2.3", "unspecified"},
        {"255.255.255.255", "reserved"},
        {"::ffff:127.0.0.1", "loopback"}, {"::127.0.0.1", "loopback"}, {"::ffff:10.0.0.1", "private"},
        {"64:ff9b::a9fe:a9fe", "link-local"},
    };
    for (String[] c : cases) {
      assertThat(OutboundUrlGuard.forbiddenReason(InetAddress.getByName(c[0]), false)).as(c[0]).contains(c[1]);
    }
  }

  @Test
  void allowsPublicAddressesAndLoopbackOnlyWithTheDevelopmentFlag() throws Exception {
    for (String ok : new String[] {"8.8.8.8", "172.32.0.1", "2001:4860:4860::8888", "100.128.0.1"}) {
      assertThat(OutboundUrlGuard.forbiddenReason(InetAddress.getByName(ok), false)).as(ok).isNull();
    }
    assertThat(OutboundUrlGuard.forbiddenReason(InetAddress.getByName("127.0.0.1"), true)).isNull();
    // the flag opens loopback only, never private or link-local ranges
    assertThat(OutboundUrlGuard.forbiddenReason(InetAddress.getByName("169.254.169.254"), true)).isNotNull();
    assertThat(OutboundUrlGuard.forbiddenReason(InetAddress.getByName("10.0.0.1"), true)).isNotNull();
  }
}
