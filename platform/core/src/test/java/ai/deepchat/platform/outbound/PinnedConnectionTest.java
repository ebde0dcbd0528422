package ai.deepchat.platform.outbound;

import ai.deepchat.platform.concurrent.BusyDefaultWorkers;
import ai.deepchat.platform.concurrent.WorkerPools;
import ai.deepchat.platform.config.PlatformConfig;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PfxOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * DNS rebinding against real connections, loopback only: the resolver hook answers 127.0.0.2 first and
 * 127.0.0.3 afterwards, both listening on the same port. The request must reach exactly the address
 * the policy checked, with the URL's host in the Host header and, over TLS, in the server name and
 * the certificate check. The URL's host is "localhost" (allow-listed here), so even a client that
 * looked the name up itself would ask the hosts file, never a DNS server.
 */
class PinnedConnectionTest {

  static Vertx vertx;
  static final List<String> onFirst = new CopyOnWriteArrayList<>();
  static final List<String> onSecond = new CopyOnWriteArrayList<>();
  static int port;

  @BeforeAll
  static void listen() throws Exception {
    vertx = Vertx.vertx();
    HttpServer first = await(vertx.createHttpServer()
        .connectionHandler(c -> onFirst.add("connection"))
        .requestHandler(req -> {
          onFirst.add(req.authority().toString());
          req.response().end("first");
        }).listen(0, "127.0.0.2"));
    port = first.actualPort();
    await(vertx.createHttpServer()
        .connectionHandler(c -> onSecond.add("connection"))
        .requestHandler(req -> req.response().end("second")).listen(port, "127.0.0.3"));
  }

  @AfterAll
  static void close() throws Exception {
    await(vertx.close());
  }

  @Test
  void theConnectionGoesToTheCheckedAddressNotToALaterAnswer() throws Exception {
    AtomicInteger lookups = new AtomicInteger();
    OutboundPolicy policy = new OutboundPolicy(List.of("localhost:" + port), host -> List.of(
        InetAddress.getByName(lookups.getAndIncrement() == 0 ? "127.0.0.2" : "127.0.0.3")));
    HttpClient client = vertx.createHttpClient();
    String body = await(policy.resolve(vertx, "http://localhost:" + port + "/v1/chat/completions")
        .compose(target -> client.request(target.requestOptions(HttpMethod.GET)))
        .compose(req -> req.send().compose(resp -> resp.body())))
        .toString();
    assertThat(body).isEqualTo("first");
    assertThat(lookups).hasValue(1);
    assertThat(onFirst).containsExactly("connection", "localhost:" + port);
    assertThat(onSecond).isEmpty();
  }

  @Test
  void theLookupRunsOnTheLookupPoolWhileTheDefaultPoolIsFull() throws Exception {
    List<String> threads = new CopyOnWriteArrayList<>();
    OutboundPolicy policy = new OutboundPolicy(List.of("localhost:" + port), host -> {
      threads.add(Thread.currentThread().getName());
      return List.of(InetAddress.getByName("127.0.0.2"));
    });
    try (BusyDefaultWorkers ignored = BusyDefaultWorkers.hold(vertx)) {
      PinnedTarget target = await(policy.resolve(vertx, "http://localhost:" + port + "/"), Duration.ofSeconds(20));
      assertThat(target.address().getHostAddress()).isEqualTo("127.0.0.2");
    }
    assertThat(threads).singleElement().asString().startsWith(WorkerPools.Kind.OUTBOUND_LOOKUPS.poolName());
  }

  /**
   * An IP literal needs no lookup, so it takes no lookup thread (one per model request before): with the
   * lookup pool's one thread held, an address is still pinned, and a refused one still refused.
   */
  @Test
  void anAddressIsPinnedWithoutALookupThread() throws Exception {
    Vertx own = Vertx.vertx();
    CountDownLatch release = new CountDownLatch(1);
    try {
      PlatformConfig.Workers defaults = PlatformConfig.Workers.defaults();
      WorkerPools pools = WorkerPools.install(own, new PlatformConfig.Workers(defaults.passwordHashing(),
          defaults.embeddings(), defaults.tokenizer(), defaults.engineAdmissions(), 1));
      pools.runOnce(WorkerPools.Kind.OUTBOUND_LOOKUPS, () -> release.await(30, TimeUnit.SECONDS));
      OutboundPolicy policy = new OutboundPolicy(List.of("127.0.0.2:" + port), host -> {
        throw new AssertionError("no lookup for an address");
      });
      PinnedTarget target = await(policy.resolve(own, "http://127.0.0.2:" + port + "/"), Duration.ofSeconds(5));
      assertThat(target.address().getHostAddress()).isEqualTo("127.0.0.2");
      assertThatThrownBy(() -> await(policy.resolve(own, "http://127.0.0.3:" + port + "/"), Duration.ofSeconds(5)))
          .hasRootCauseInstanceOf(OutboundRefusedException.class);
    } finally {
      release.countDown();
      await(own.close());
    }
  }

  @Test
  void overTlsTheServerNameAndCertificateCheckKeepTheUrlsHost() throws Exception {
    // test-only key stores (EC, made with keytool): certificates for localhost and elsewhere.localhost
    PfxOptions local = store("localhost");
    PfxOptions foreign = store("elsewhere.localhost");
    List<String> names = new CopyOnWriteArrayList<>();
    int good = tlsServer(local, names);
    int wrong = tlsServer(foreign, names);
    OutboundPolicy policy = new OutboundPolicy(List.of("localhost"), host -> List.of(InetAddress.getByName("127.0.0.2")));
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setTrustOptions(local)
        .setVerifyHost(true).setForceSni(true));
    String body = await(policy.resolve(vertx, "https://localhost:" + good + "/v1")
        .compose(t -> client.request(t.requestOptions(HttpMethod.GET)))
        .compose(req -> req.send().compose(resp -> resp.body()))).toString();
    assertThat(body).isEqualTo("secure");
    assertThat(names).containsExactly("localhost");
    // a certificate for another name at the pinned address fails the check against the URL's host
    HttpClient trustingIt = vertx.createHttpClient(new HttpClientOptions().setTrustOptions(foreign)
        .setVerifyHost(true).setForceSni(true));
    assertThatThrownBy(() -> await(policy.resolve(vertx, "https://localhost:" + wrong + "/v1")
        .compose(t -> trustingIt.request(t.requestOptions(HttpMethod.GET))).compose(req -> req.send())))
        .hasCauseInstanceOf(javax.net.ssl.SSLHandshakeException.class);
    assertThat(names).hasSize(1);
  }

  private static PfxOptions store(String name) {
    return new PfxOptions().setPath("outbound/" + name + ".p12").setPassword("changeit");
  }

  private static int tlsServer(PfxOptions keys, List<String> names) throws Exception {
    return await(vertx.createHttpServer(new HttpServerOptions().setSsl(true).setSni(true).setKeyCertOptions(keys))
        .requestHandler(req -> {
          names.add(req.connection().indicatedServerName());
          req.response().end("secure");
        }).listen(0, "127.0.0.2")).actualPort();
  }
}
