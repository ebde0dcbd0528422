package ai.deepchat.console.inbox;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The inbox page over real HTTP: agents, admins and owners get it (an agent's menu holds the inbox
 * only), viewers and editors do not, and its script and style are served (what they do is the browser
 * scenario inbox.e2e.js).
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InboxPageTest {

  private HandoffHarness h;
  private HandoffHarness.Tenant t;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    h = HandoffHarness.start(vertx);
    t = h.tenant("inbox-page");
  }

  @Test
  void agentsAdminsAndOwnersGetThePageWithTheirIdentity() throws Exception {
    HandoffHarness.Staff ann = h.new Staff(t, "ann@inbox-page.test");
    HttpResponse<String> page = ann.page("/console/inbox");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body()).contains("id=\"inbox\"", "data-me=\"" + h.userId(t, "ann@inbox-page.test") + "\"",
        "src=\"/console/static/inbox.js\"", "href=\"/console/static/inbox.css\"", "href=\"/console/inbox\"");
    assertThat(page.body()).as("an agent's menu: the inbox only").doesNotContain("href=\"/console/kb\"",
        "href=\"/console/settings\"");
    assertThat(ann.page("/console/").headers().firstValue("Location")).hasValue("/console/inbox");

    for (String email : new String[] {"admin@inbox-page.test", "owner@inbox-page.test"}) {
      HttpResponse<String> admin = h.new Staff(t, email).page("/console/inbox");
      assertThat(admin.statusCode()).as(email).isEqualTo(200);
      assertThat(admin.body()).as(email).contains("href=\"/console/inbox\"", "href=\"/console/kb\"");
    }
  }

  @Test
  void viewersNeitherGetThePageNorSeeItInTheMenu() throws Exception {
    HandoffHarness.Staff viewer = h.new Staff(t, "viewer@inbox-page.test");
    assertThat(viewer.page("/console/inbox").statusCode()).isEqualTo(403);
    HttpResponse<String> overview = viewer.page("/console/");
    assertThat(overview.statusCode()).isEqualTo(200);
    assertThat(overview.body()).contains("href=\"/console/kb\"").doesNotContain("href=\"/console/inbox\"");
  }

  @Test
  void theScriptAndStyleAreServed() throws Exception {
    HandoffHarness.Staff ann = h.new Staff(t, "ann@inbox-page.test");
    HttpResponse<String> script = ann.page("/console/static/inbox.js");
    assertThat(script.statusCode()).isEqualTo(200);
    assertThat(script.body()).contains("/console/api/inbox", "EventSource");
    assertThat(ann.page("/console/static/inbox.css").statusCode()).isEqualTo(200);
  }
}
