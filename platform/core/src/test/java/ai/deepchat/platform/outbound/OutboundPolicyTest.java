package ai.deepchat.platform.outbound;

import ai.deepchat.platform.config.ConfigException;
import ai.deepchat.platform.config.ConfigLoader;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The outbound policy without any network: literal forms and names that are refused before a lookup,
 * every answer of a lookup checked (answers come from a resolver hook, never from DNS), the operator's
 * allow-list, and the configuration key.
 */
class OutboundPolicyTest {

  private static final HostResolver NO_DNS = host -> {
    throw new AssertionError("no lookup expected for " + host);
  };

  private final OutboundPolicy strict = new OutboundPolicy(List.of(), NO_DNS);

  @Test
  void internalLiteralsAndLocalNamesAreRefusedWithoutALookup() {
    String[][] cases = {
        {"http://127.0.0.1:8080/v1", "loopback"}, {"http://127.8.9.10/", "loopback"},
        {"http://[::1]:9000/", "loopback"}, {"http://[::ffff:127.0.0.1]/", "loopback"},
        {"http://[0:0:0:0:0:ffff:7f00:1]/", "loopback"}, {"https://localhost/v1", "loopback"},
        {"http://LOCALHOST.:8080/", "loopback"}, {"http://api.localhost/", "loopback"},
        {"http://0.0.0.0:8080/", "unspecified"}, {"http://[::]/", "unspecified"},
        {"http://169.254.169.254/latest/meta-data/", "link-local"}, {"http://[fe80::1]/", "link-local"},
        {"http://10.0.0.5/", "private"}, {"http://172.16.0.1/", "private"}, {"http://192.168.1.1/", "private"},
        {"http://[fd00::1]/", "private"}, {"http://100.64.0.1/", "private"},
        {"http://224.0.0.1/", "multicast"}, {"http://255.255.255.255/", "reserved"},
        {"http://[64:ff9b::a9fe:a9fe]/", "link-local"}, {"http://[2002:a00:1::]/", "private"},
        {"http://2130706433/", "non-canonical"}, {"http://0x7f.0.0.1/", ""},
        {"http://0x7f.0.0.1/", ""}, {"http://0177.0.0.1/", ""},
        {"http://127.1/", ""}, {"http://017700000001:80/", "non-canonical"},
        {"http://user@models.example.com/", "user info"}, {"http://a:b@127.0.0.1/", "user info"},
        {"ftp://models.example.com/", "http and https"}, {"file:///etc/passwd", "http and https"},
        {"gopher://127.0.0.1:6379/", "http and https"}, {"//models.example.com/v1", "http and https"},
        {"http:///v1", "no valid host"}, {"http://bad_host.example.com/", "no valid host"},
        {"http://[fe80::1%25eth0]/", ""}, {"http://models.example.com/v1#x", "fragment"},
        {"not a url", ""},
    };
    for (String[] c : cases) {
      assertThatThrownBy(() -> strict.check(c[0])).as(c[0]).isInstanceOf(OutboundRefusedException.class)
          .hasMessageContaining(c[1]);
    }
  }

  @Test
  void addressRangesAtTheirEdges() throws Exception {
    String[][] internal = {
        {"172.31.255.255", "private"}, {"0.1.2.3", "unspecified"}, {"ff02::1", "multicast"},
        {"::127.0.0.1", "loopback"}, {"::ffff:10.0.0.1", "private"}, {"fec0::1", "private"},
        {"192.0.2.1", "reserved"}, {"198.51.100.7", "reserved"}, {"203.0.113.9", "reserved"},
        {"198.19.0.1", "benchmarking"}, {"2001:db8::1", "reserved"}, {"100.127.255.255", "private"},
    };
    for (String[] c : internal) {
      assertThat(AddressRanges.internalReason(InetAddress.getByName(c[0]))).as(c[0]).contains(c[1]);
    }
    for (String ok : new String[] {"8.8.8.8", "172.32.0.1", "2001:4860:4860::8888", "100.128.0.1", "203.0.114.10"}) {
      assertThat(AddressRanges.internalReason(InetAddress.getByName(ok))).as(ok).isNull();
    }
  }

  @Test
  void publicLiteralsAndNamesPassTheCheckNamesAreLookedUpOnlyWhenPinned() {
    OutboundUrl named = strict.check("https://Models.Example.com/v1?x=1");
    assertThat(named).isEqualTo(new OutboundUrl(true, "models.example.com", 443, "/v1?x=1", null));
    OutboundUrl literal = strict.check("http://8.8.8.8:8000");
    assertThat(literal.port()).isEqualTo(8000);
    assertThat(literal.pathAndQuery()).isEqualTo("/");
    // a literal needs no lookup to be pinned
    assertThat(strict.pin(literal).address().getHostAddress()).isEqualTo("8.8.8.8");
  }

  @Test
  void everyAnswerOfTheLookupIsCheckedAndTheFirstIsPinned() throws Exception {
    OutboundPolicy mixed = new OutboundPolicy(List.of(), host -> List.of(
        InetAddress.getByName("8.8.8.8"), InetAddress.getByName("127.0.0.3")));
    assertThatThrownBy(() -> mixed.pin(mixed.check("https://models.example.com/v1")))
        .isInstanceOf(OutboundRefusedException.class).hasMessageContaining("loopback").hasMessageContaining("127.0.0.3");
    OutboundPolicy missing = new OutboundPolicy(List.of(), host -> {
      throw new UnknownHostException(host);
    });
    assertThatThrownBy(() -> missing.pin(missing.check("https://models.example.com/v1")))
        .hasMessageContaining("does not resolve");
  }

  @Test
  void aRebindingAnswerCannotReplaceTheCheckedAddress() throws Exception {
    // first answer public, every later one loopback: what is pinned is the first, checked answer
    AtomicInteger lookups = new AtomicInteger();
    OutboundPolicy rebinding = new OutboundPolicy(List.of(), host -> List.of(InetAddress.getByName(
        lookups.getAndIncrement() == 0 ? "8.8.4.4" : "127.0.0.1")));
    PinnedTarget pinned = rebinding.pin(rebinding.check("https://models.example.com/v1/chat/completions"));
    assertThat(lookups).hasValue(1);
    var options = pinned.requestOptions(io.vertx.core.http.HttpMethod.POST);
    assertThat(options.getServer().toString()).contains("8.8.4.4");
    assertThat(options.getHost()).isEqualTo("models.example.com");
    assertThat(options.isSsl()).isTrue();
    assertThat(options.getFollowRedirects()).isFalse();
    assertThat(options.getURI()).isEqualTo("/v1/chat/completions");
    // a second connection looks up again and is refused on the loopback answer
    assertThatThrownBy(() -> rebinding.pin(rebinding.check("https://models.example.com/v1")))
        .hasMessageContaining("loopback");
  }

  @Test
  void theOperatorAllowListOpensExactlyItsEndpoints() throws Exception {
    OutboundPolicy policy = new OutboundPolicy(List.of("vllm.internal:8000", "127.0.0.1:9000", "[::1]:7000",
        "Gpu-Box"), host -> List.of(InetAddress.getByName("127.0.0.7")));
    assertThat(policy.pin(policy.check("http://vllm.internal:8000/v1")).address().getHostAddress())
        .isEqualTo("127.0.0.7");
    assertThatThrownBy(() -> policy.pin(policy.check("http://vllm.internal:8001/v1"))).hasMessageContaining("loopback");
    assertThat(policy.check("http://127.0.0.1:9000/v1").literal()).isNotNull();
    assertThatThrownBy(() -> policy.check("http://127.0.0.1:9001/v1")).hasMessageContaining("loopback");
    assertThat(policy.check("http://[::1]:7000/").port()).isEqualTo(7000);
    assertThat(policy.pin(policy.check("https://gpu-box:4443/")).address().getHostAddress()).isEqualTo("127.0.0.7");
    // never the unspecified address or multicast, allow-listed or not
    OutboundPolicy any = new OutboundPolicy(List.of("0.0.0.0", "sneaky"),
        host -> List.of(InetAddress.getByName("0.0.0.0")));
    assertThatThrownBy(() -> any.check("http://0.0.0.0:8080/")).hasMessageContaining("unspecified");
    assertThatThrownBy(() -> any.pin(any.check("http://sneaky/"))).hasMessageContaining("unspecified");
  }

  @Test
  void theNodePolicyTrustsTheConfiguredEndpointsOnly() {
    OutboundPolicy node = OutboundPolicy.of(ConfigLoader.load(Map.of("OUTBOUND_ALLOWED_HOSTS", "127.0.0.1:8000, vllm:80",
        "DEEPSEEK_BASE_URL", "http://127.0.0.1:9100/v1"), new String[0]));
    assertThat(node.check("http://127.0.0.1:8000/v1").port()).isEqualTo(8000);
    assertThat(node.check("http://127.0.0.1:9100/v1").port()).isEqualTo(9100);
    assertThatThrownBy(() -> node.check("http://127.0.0.1:9101/v1")).hasMessageContaining("loopback");
    assertThat(ConfigLoader.load(Map.of(), new String[0]).policy().outboundAllowedHosts()).isEmpty();
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("OUTBOUND_ALLOWED_HOSTS", "http://x/"), new String[0]))
        .isInstanceOf(ConfigException.class).hasMessageStartingWith("OUTBOUND_ALLOWED_HOSTS:");
  }
}
