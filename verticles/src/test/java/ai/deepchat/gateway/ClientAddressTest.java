package ai.deepchat.gateway;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Who the client is, over real HTTP from different loopback addresses: X-Forwarded-For counts only
 * when the peer is a trusted proxy, and then only the hop that proxy saw, never what the client wrote.
 */
class ClientAddressTest {

  static Vertx vertx;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    ClientAddress clients = new ClientAddress(List.of("127.0.0.2", "127.0.1.0/24"));
    HttpServer server = await(vertx.createHttpServer()
        .requestHandler(req -> req.response().end(clients.of(req))).listen(0, "127.0.0.1"));
    port = server.actualPort();
  }

  @AfterAll
  static void stop() throws Exception {
    await(vertx.close());
  }

  @Test
  void anUntrustedPeerIsTheClientWhateverItsHeadersSay() throws Exception {
    assertThat(seenFrom("127.0.0.3", null)).isEqualTo("127.0.0.3");
    assertThat(seenFrom("127.0.0.3", "203.0.113.7")).isEqualTo("127.0.0.3");
  }

  @Test
  void aTrustedProxyNamesTheClientItSaw() throws Exception {
    assertThat(seenFrom("127.0.0.2", "198.51.100.4")).isEqualTo("198.51.100.4");
    // the client wrote "203.0.113.7" itself; the proxy appended the address it saw
    assertThat(seenFrom("127.0.0.2", "203.0.113.7, 198.51.100.4")).isEqualTo("198.51.100.4");
    // two trusted hops (127.0.1.5 is inside 127.0.1.0/24) are skipped
    assertThat(seenFrom("127.0.0.2", "198.51.100.4, 127.0.1.5")).isEqualTo("198.51.100.4");
    // garbage stops the walk at the last trusted hop; no name is ever resolved
    assertThat(seenFrom("127.0.0.2", "not-an-ip.example")).isEqualTo("127.0.0.2");
    assertThat(seenFrom("127.0.0.2", null)).isEqualTo("127.0.0.2");
  }

  private static String seenFrom(String localAddress, String forwardedFor) throws Exception {
    WebClient client = WebClient.create(vertx, new WebClientOptions().setLocalAddress(localAddress));
    try {
      var request = client.get(port, "127.0.0.1", "/");
      if (forwardedFor != null) {
        request.putHeader("X-Forwarded-For", forwardedFor);
      }
      return await(request.send()).bodyAsString();
    } finally {
      client.close();
    }
  }
}
