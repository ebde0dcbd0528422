package ai.deepchat.console.markdown;

import io.vertx.core.json.JsonObject;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenario 15 on the server side: every payload of the shared XSS corpus (src/test/e2e/xss-corpus.json,
 * also driven through the live widget and console by xss.e2e.js), alone and inside ordinary text,
 * renders to HTML with no element, attribute or URL that could run or load anything.
 */
class SafeMarkdownCorpusTest {

  static List<String> corpus() throws Exception {
    JsonObject file = new JsonObject(Files.readString(Path.of("src/test/e2e/xss-corpus.json")));
    return file.getJsonArray("payloads").stream().map(String.class::cast).toList();
  }

  @ParameterizedTest
  @MethodSource("corpus")
  void nothingInTheCorpusSurvivesAsActiveHtml(String payload) {
    for (String markdown : List.of(payload, "Intro text.\n\n" + payload + "\n\nOutro **bold**.")) {
      Document dom = Jsoup.parseBodyFragment(SafeMarkdown.toHtml(markdown));
      for (Element e : dom.body().getAllElements()) {
        assertThat(e.tagName()).as(payload).isNotIn("script", "img", "svg", "iframe", "object", "embed", "style",
            "link", "meta", "form", "input", "button", "math", "details", "base");
        e.attributes().forEach(a -> {
          assertThat(a.getKey().toLowerCase(Locale.ROOT)).as(payload).doesNotStartWith("on")
              .isNotIn("style", "src", "srcset", "action", "formaction");
          if (a.getKey().equalsIgnoreCase("href")) {
            assertThat(a.getValue()).as(payload).startsWith("https://");
          }
        });
      }
    }
  }
}
