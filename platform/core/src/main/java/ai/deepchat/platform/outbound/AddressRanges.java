package ai.deepchat.platform.outbound;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Which addresses are internal, and why: loopback, link-local (169.254/16 with the cloud metadata
 * service, fe80::/10), private (10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10), shared 100.64/10,
 * unspecified, multicast, and reserved, documentation and benchmarking ranges; IPv4 inside IPv6
 * (mapped, compatible, NAT64, 6to4) is judged as the IPv4 address it carries.
 */
final class AddressRanges {

  private AddressRanges() {
  }

  /** Why {@code a} is internal, or null when it is a public address. */
  static String internalReason(InetAddress a) {
    String always = alwaysRefused(a);
    if (always != null) {
      return always;
    }
    if (a instanceof Inet6Address) {
      InetAddress embedded = embeddedIpv4(a.getAddress());
      if (embedded != null) {
        return internalReason(embedded);
      }
      byte[] b = a.getAddress();
      if ((b[0] & 0xfe) == 0xfc) {
        return "private (unique local)";
      }
      if (b[0] == 0x20 && b[1] == 0x01 && (b[2] == 0 && b[3] == 0 || b[2] == 0x0d && (b[3] & 0xff) == 0xb8)) {
        return "reserved (Teredo or documentation)";
      }
    }
    if (a.isLoopbackAddress()) {
      return "loopback";
    }
    if (a.isLinkLocalAddress()) {
      return "link-local";
    }
    if (a.isSiteLocalAddress()) {
      return "private";
    }
    if (a instanceof Inet4Address) {
      return ipv4Reserved(a.getAddress());
    }
    return null;
  }

  /** What no allow-list opens: the unspecified address (which reaches this host) and multicast. */
  static String alwaysRefused(InetAddress a) {
    if (a instanceof Inet6Address) {
      InetAddress embedded = embeddedIpv4(a.getAddress());
      if (embedded != null) {
        return alwaysRefused(embedded);
      }
    }
    if (a.isAnyLocalAddress() || a instanceof Inet4Address && (a.getAddress()[0] & 0xff) == 0) {
      return "unspecified";
    }
    if (a.isMulticastAddress()) {
      return "multicast";
    }
    return null;
  }

  private static String ipv4Reserved(byte[] b) {
    int first = b[0] & 0xff;
    int second = b[1] & 0xff;
    int third = b[2] & 0xff;
    if (first == 100 && (second & 0xc0) == 64) {
      return "private (shared 100.64/10)";
    }
    if (first == 192 && second == 0 && (third == 0 || third == 2) || first == 198 && second == 51 && third == 100
        || first == 203 && second == 0 && third == 113) {
      return "reserved (protocol assignments or documentation)";
    }
    if (first == 198 && (second & 0xfe) == 18) {
      return "reserved (benchmarking)";
    }
    if (first >= 240) {
      return "reserved";
    }
    return null;
  }

  /** IPv4 inside IPv6: mapped ::ffff:a.b.c.d, compatible ::a.b.c.d (not :: or ::1), NAT64 64:ff9b::/96, 6to4 2002::/16. */
  private static InetAddress embeddedIpv4(byte[] b) {
    if (b.length != 16) {
      return null;
    }
    if ((b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x02) {
      return ipv4(b[2], b[3], b[4], b[5]);
    }
    boolean zeroPrefix = zero(b, 0, 10);
    boolean mapped = zeroPrefix && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
    boolean compatible = zeroPrefix && b[10] == 0 && b[11] == 0
        && !(b[12] == 0 && b[13] == 0 && b[14] == 0 && (b[15] == 0 || b[15] == 1));
    boolean nat64 = b[0] == 0 && (b[1] & 0xff) == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b
        && zero(b, 4, 12);
    return mapped || compatible || nat64 ? ipv4(b[12], b[13], b[14], b[15]) : null;
  }

  private static boolean zero(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  private static InetAddress ipv4(byte a, byte b, byte c, byte d) {
    try {
      return InetAddress.getByAddress(new byte[] {a, b, c, d});
    } catch (UnknownHostException e) {
      return null; // four bytes are always a valid address
    }
  }
}
