package ai.deepchat.console;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.client.WebClientSession;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static ai.deepchat.platform.testing.Await.await;

/**
 * A browser whose connections leave from a chosen loopback address (127.x.y.z), so one test can sign
 * in as several clients: the console sees each as its own client address.
 */
final class AddressedBrowser implements AutoCloseable {

  private static final Pattern CSRF = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"");

  private final WebClient client;
  private final WebClientSession session;
  private final int port;

  AddressedBrowser(Vertx vertx, int port, String localAddress) {
    this.port = port;
    this.client = WebClient.create(vertx, new WebClientOptions().setLocalAddress(localAddress)
        .setFollowRedirects(false).setKeepAlive(false));
    this.session = WebClientSession.create(client);
  }

  /** Loads the sign-in page (for its CSRF token), then posts the form. */
  HttpResponse<Buffer> login(String workspace, String email, String password) throws Exception {
    HttpResponse<Buffer> page = await(session.get(port, "127.0.0.1", "/console/login").send());
    Matcher m = CSRF.matcher(page.bodyAsString());
    if (!m.find()) {
      throw new AssertionError("no CSRF token on the sign-in page: " + page.statusCode());
    }
    return await(session.post(port, "127.0.0.1", "/console/login")
        .putHeader("Origin", "http://127.0.0.1:" + port)
        .sendForm(MultiMap.caseInsensitiveMultiMap().add("workspace", workspace).add("email", email)
            .add("password", password).add("next", "/console/").add("_csrf", m.group(1))));
  }

  @Override
  public void close() {
    client.close();
  }
}
