package ai.deepchat.policy.plugin;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Set;

/**
 * SSRF protection for URLs that tenants configure: the host must be on the tenant's allow-list (exact
 * match), HTTPS is required unless the host is explicitly allowed for plain HTTP, and every address
 * the host resolves to must be public: loopback, link-local (169.254/16, fe80::/10), private (10/8,
 * 172.16/12, 192.168/16, fc00::/7), shared (100.64/10), multicast, unspecified and reserved addresses
 * are refused, IPv4 embedded in IPv6 included. The caller then connects to the checked address itself
 * (no second lookup that DNS rebinding could change) and never follows redirects.
 */
public final class OutboundUrlGuard {

  /** Thrown when a URL or address is refused; the message says why, for logs and admins. */
  public static final class RefusedException extends RuntimeException {
    public RefusedException(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * What may be reached. {@code allowLoopback} lets an allow-listed host resolve to loopback; it exists
   * for development and tests only and must stay off in production.
   */
  public record Policy(Set<String> allowedHosts, Set<String> httpAllowedHosts, boolean allowLoopback) {
    public Policy {
      allowedHosts = allowedHosts.stream().map(OutboundUrlGuard::normalizeHost).collect(java.util.stream.Collectors.toSet());
      httpAllowedHosts = httpAllowedHosts.stream().map(OutboundUrlGuard::normalizeHost).collect(java.util.stream.Collectors.toSet());
    }
  }

  /** A checked URL: where to connect (after {@link #resolve}) and what to ask for. */
  public record Target(String host, int port, boolean https, String pathAndQuery) {
  }

  private OutboundUrlGuard() {
  }

  public static Target checkUrl(String url, Policy policy) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new RefusedException("not a valid URL: " + e.getReason());
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (uri.getRawUserInfo() != null) {
      throw new RefusedException("URLs with user info are refused");
    }
    if (uri.getHost() == null) {
      throw new RefusedException("the URL has no host");
    }
    String host = normalizeHost(uri.getHost());
    if (!policy.allowedHosts().contains(host)) {
      throw new RefusedException("host " + host + " is not on the allow-list");
    }
    boolean https;
    if (scheme.equals("https")) {
      https = true;
    } else if (scheme.equals("http")) {
      if (!policy.httpAllowedHosts().contains(host)) {
        throw new RefusedException("plain http is refused for " + host + " (https required)");
      }
      https = false;
    } else {
      throw new RefusedException("scheme '" + scheme + "' is refused (https only)");
    }
    int port = uri.getPort() > 0 ? uri.getPort() : (https ? 443 : 80);
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
    return new Target(host, port, https, path + query);
  }

  /** Resolves the host off the event loop; fails with {@link RefusedException} if any address is forbidden. */
  public static Future<InetAddress> resolve(Vertx vertx, Target target, Policy policy) {
    return vertx.executeBlocking(() -> {
      InetAddress[] all;
      try {
        all = InetAddress.getAllByName(target.host());
      } catch (UnknownHostException e) {
        throw new RefusedException("host " + target.host() + " does not resolve");
      }
      for (InetAddress a : all) {
        String why = forbiddenReason(a, policy.allowLoopback());
        if (why != null) {
          throw new RefusedException("host " + target.host() + " resolves to a " + why + " address ("
              + a.getHostAddress() + ")");
        }
      }
      return all[0];
    }, false);
  }

  /** Why an address may not be reached, or null when it may. */
  public static String forbiddenReason(InetAddress a, boolean allowLoopback) {
    if (a instanceof Inet6Address) {
      byte[] b = a.getAddress();
      InetAddress embedded = embeddedIpv4(b);
      if (embedded != null) {
        return forbiddenReason(embedded, allowLoopback);
      }
      if ((b[0] & 0xfe) == 0xfc) {
        return "private (unique local)";
      }
    }
    if (a.isAnyLocalAddress()) {
      return "unspecified";
    }
    if (a.isLoopbackAddress()) {
      return allowLoopback ? null : "loopback";
    }
    if (a.isLinkLocalAddress()) {
      return "link-local";
    }
    if (a.isSiteLocalAddress()) {
      return "private";
    }
    if (a.isMulticastAddress()) {
      return "multicast";
    }
    if (a instanceof Inet4Address) {
      byte[] b = a.getAddress();
      int first = b[0] & 0xff;
      int second = b[1] & 0xff;
      if (first == 0) {
        return "unspecified";
      }
      if (first == 100 && (second & 0xc0) == 64) {
        return "private (shared 100.64/10)";
      }
      if (first == 198 && (second & 0xfe) == 18) {
        return "reserved";
      }
      if (first >= 240) {
        return "reserved";
      }
    }
    return null;
  }

  /** IPv4 inside IPv6: compatible ::a.b.c.d (not :: or ::1) and NAT64 64:ff9b::/96. */
  private static InetAddress embeddedIpv4(byte[] b) {
    boolean zeroPrefix = true;
    for (int i = 0; i < 12; i++) {
      zeroPrefix &= b[i] == 0;
    }
    boolean nat64 = (b[0] & 0xff) == 0x00 && (b[1] & 0xff) == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b;
    for (int i = 4; nat64 && i < 12; i++) {
      nat64 = b[i] == 0;
    }
    boolean trivial = zeroPrefix && b[12] == 0 && b[13] == 0 && b[14] == 0 && (b[15] == 0 || b[15] == 1);
    if ((!zeroPrefix && !nat64) || trivial) {
      return null;
    }
    try {
      return InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]});
    } catch (UnknownHostException e) {
      return null;
    }
  }

  static String normalizeHost(String host) {
    String h = host.trim().toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    return h;
  }
}
