package ai.deepchat.console;

import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Datasets page over real HTTP and PostgreSQL: an editor builds a dataset from a stored, praised answer,
 * edits and accepts the example, freezes a version and downloads its JSONL; viewers are refused, another
 * tenant's editor finds nothing, and the page speaks Chinese.
 */
class ConsoleDatasetsTest extends ConsoleTestBase {

  private static final Pattern EXAMPLE = Pattern.compile("/examples/([0-9a-f-]{36})\"");

  @Test
  void anEditorBuildsReviewsFreezesAndDownloadsAVersion() throws Exception {
    UUID conversation = await(h.testDb.database().inTenant(h.alpha, c -> c.preparedQuery("INSERT INTO conversations "
        + "(tenant_id, visitor_id, channel) VALUES (app_tenant(), 'console-v', 'widget') RETURNING id").execute()
        .map(r -> r.iterator().next().getUUID(0))));
    await(h.testDb.database().inTenant(h.alpha, c -> c.preparedQuery("INSERT INTO messages (tenant_id, conversation_id, "
            + "role, content, feedback, created_at) VALUES (app_tenant(), $1, 'user', 'Where is my parcel?', NULL, "
            + "now() - interval '2 minutes'), (app_tenant(), $1, 'assistant', 'Mail bob@shop.example for tracking.', 1, "
            + "now() - interval '1 minute')").execute(Tuple.of(conversation))));

    var viewer = h.browser().signedIn("alpha", "viewer@alpha.test");
    assertThat(viewer.get("/console/datasets").statusCode()).isEqualTo(403);

    var editor = h.browser().signedIn("alpha", "editor@alpha.test");
    assertThat(editor.get("/console/datasets").statusCode()).isEqualTo(200);
    HttpResponse<String> created = editor.submit("/console/datasets", Map.of("name", "parcels", "positive_only", "on"));
    assertThat(created.statusCode()).as(created.body()).isEqualTo(302);
    String page = created.headers().firstValue("Location").orElseThrow().replaceAll("\\?.*", "");
    String id = page.substring(page.lastIndexOf('/') + 1);
    assertThat(editor.submit(page + "/build", Map.of()).statusCode()).isEqualTo(302);

    String queue = editor.get(page).body();
    assertThat(queue).contains("b***@shop.example").doesNotContain("bob@shop.example");
    Matcher m = EXAMPLE.matcher(queue);
    assertThat(m.find()).isTrue();
    String example = m.group(1);
    String edit = "{\"messages\":[{\"role\":\"user\",\"content\":\"Where is my parcel?\"},"
        + "{\"role\":\"assistant\",\"content\":\"Track it under Orders.\"}]}";
    HttpResponse<String> reviewed = editor.submit(page + "/examples/" + example, Map.of("status", "accepted",
        "content", edit, "shown", "{}"));
    assertThat(reviewed.statusCode()).as(reviewed.body()).isEqualTo(302);
    // JSON that is not an example is refused with the reason, and changes nothing
    HttpResponse<String> bad = editor.submit(page + "/examples/" + example, Map.of("content", "{\"messages\":[]}",
        "shown", "{}"));
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("content.messages");

    assertThat(editor.submit(page + "/versions", Map.of()).statusCode()).isEqualTo(302);
    HttpResponse<String> file = editor.get(page + "/versions/1/sft.jsonl");
    assertThat(file.statusCode()).isEqualTo(200);
    assertThat(file.body()).isEqualTo(edit + "\n");
    assertThat(editor.get(page + "/versions/2/sft.jsonl").statusCode()).isEqualTo(404);

    var other = h.browser().signedIn("beta", "editor@beta.test");
    assertThat(other.get("/console/datasets/" + id).statusCode()).isEqualTo(404);
    assertThat(other.get("/console/datasets/" + id + "/versions/1/sft.jsonl").statusCode()).isEqualTo(404);
    assertThat(other.submit("/console/datasets/" + id + "/examples/" + example, Map.of("status", "rejected"))
        .statusCode()).isEqualTo(404);

    // the minimum rating is kept as the API's filter; a value off the scale is refused and nothing is made
    assertThat(editor.get("/console/datasets").body()).contains("name=\"min_rating\"");
    assertThat(editor.submit("/console/datasets", Map.of("name", "rated", "min_rating", "4")).statusCode()).isEqualTo(302);
    assertThat(editor.submit("/console/datasets", Map.of("name", "off-scale", "min_rating", "9")).statusCode())
        .isEqualTo(400);
    String kept = await(h.testDb.database().inTenant(h.alpha, c -> c.query("SELECT string_agg(name || ':' || "
        + "coalesce(min_rating::text, '-'), ',' ORDER BY name) FROM datasets").execute()
        .map(r -> r.iterator().next().getString(0))));
    assertThat(kept).isEqualTo("parcels:-,rated:4");
    // the sources boxes: all ticked (or a post without them) is every source; some ticked, those; none, refused
    assertThat(editor.get("/console/datasets").body()).contains("name=\"sources\" value=\"faq\"");
    assertThat(editor.submit("/console/datasets", Map.of("name", "faq only", "sources_form", "1", "sources", "faq"))
        .statusCode()).isEqualTo(302);
    assertThat(editor.submit("/console/datasets", Map.of("name", "nothing", "sources_form", "1")).statusCode())
        .isEqualTo(400);
    String sources = await(h.testDb.database().inTenant(h.alpha, c -> c.query("SELECT string_agg(name || ':' || "
        + "coalesce(array_to_string(sources, '+'), 'all'), ',' ORDER BY name) FROM datasets").execute()
        .map(r -> r.iterator().next().getString(0))));
    assertThat(sources).isEqualTo("faq only:faq,parcels:all,rated:all");

    HttpResponse<String> zh = editor.http.send(HttpRequest.newBuilder(URI.create(h.base() + page + "?status=accepted"))
        .header("Accept-Language", "zh-CN").build(), HttpResponse.BodyHandlers.ofString());
    assertThat(zh.body()).contains("审核队列").contains("已接受");
  }
}
