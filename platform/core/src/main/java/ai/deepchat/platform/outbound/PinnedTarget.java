package ai.deepchat.platform.outbound;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * A checked URL and the one address it was checked at. Requests built here connect to exactly that
 * address, so a second DNS answer (rebinding) cannot move them, while the Host header, TLS server
 * name and certificate check keep the URL's host; redirects are never followed.
 */
public record PinnedTarget(OutboundUrl url, InetAddress address) {

  /** Options for {@code method} on the URL's path and query; add headers and timeouts to taste. */
  public RequestOptions requestOptions(HttpMethod method) {
    return new RequestOptions()
        .setMethod(method)
        .setServer(SocketAddress.inetSocketAddress(new InetSocketAddress(address, url.port())))
        .setHost(url.host())
        .setPort(url.port())
        .setSsl(url.https())
        .setURI(url.pathAndQuery())
        .setFollowRedirects(false);
  }
}
