package ai.deepchat.gateway;

import io.netty.handler.ipfilter.IpFilterRuleType;
import io.netty.handler.ipfilter.IpSubnetFilterRule;
import io.netty.util.NetUtil;
import io.vertx.core.http.HttpServerRequest;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The address of the client behind a request, for limits keyed by client (visitor creation, sign-in
 * back-off). The socket's peer, unless that peer is one of TRUSTED_PROXIES: then X-Forwarded-For is
 * read from the right, past the trusted hops, and the first address that is not a trusted proxy is the
 * client. Entries a client wrote itself sit to the left of that one and are never used, so nobody can
 * pick their own address; from an untrusted peer the header is ignored.
 */
public final class ClientAddress {

  private final List<IpSubnetFilterRule> trusted = new ArrayList<>();

  /** {@code proxies}: literal addresses or CIDR ranges, as validated by the configuration loader. */
  public ClientAddress(List<String> proxies) {
    for (String p : proxies) {
      int slash = p.indexOf('/');
      InetAddress ip = NetUtil.createInetAddressFromIpAddressString(slash < 0 ? p : p.substring(0, slash));
      int bits = slash < 0 ? ip.getAddress().length * 8 : Integer.parseInt(p.substring(slash + 1));
      trusted.add(new IpSubnetFilterRule(ip, bits, IpFilterRuleType.ACCEPT));
    }
  }

  /** The client's address, as a canonical literal ("unknown" when the peer is not known). */
  public String of(HttpServerRequest request) {
    String peer = request.remoteAddress() == null ? null : request.remoteAddress().hostAddress();
    InetAddress client = peer == null ? null : NetUtil.createInetAddressFromIpAddressString(peer);
    if (client == null) {
      return "unknown";
    }
    List<String> hops = trusted.isEmpty() ? List.of() : forwardedFor(request);
    for (int i = hops.size() - 1; i >= 0 && isTrusted(client); i--) {
      InetAddress hop = NetUtil.createInetAddressFromIpAddressString(hops.get(i));
      if (hop == null) {
        break; // garbage in the chain: the last proxy we trust saw this peer, and that is what we know
      }
      client = hop;
    }
    return NetUtil.toAddressString(client);
  }

  private boolean isTrusted(InetAddress address) {
    InetSocketAddress socket = new InetSocketAddress(address, 0);
    for (IpSubnetFilterRule rule : trusted) {
      if (rule.matches(socket)) {
        return true;
      }
    }
    return false;
  }

  private static List<String> forwardedFor(HttpServerRequest request) {
    List<String> hops = new ArrayList<>();
    for (String header : request.headers().getAll("X-Forwarded-For")) {
      for (String hop : header.split(",")) {
        hops.add(hop.strip());
      }
    }
    return hops;
  }
}
