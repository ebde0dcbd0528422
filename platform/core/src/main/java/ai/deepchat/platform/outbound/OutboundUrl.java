package ai.deepchat.platform.outbound;

import java.net.InetAddress;

/**
 * A URL that passed the checks needing no lookup: http or https, a host in canonical form, no user
 * info. {@code literal} is the address when the host is an IP literal, else null (a name, looked up
 * when a connection is made).
 */
public record OutboundUrl(boolean https, String host, int port, String pathAndQuery, InetAddress literal) {

  /** host:port as an allow-list entry names it (IPv6 in brackets). */
  public String authority() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
