package ai.deepchat.rag.ingest;

import ai.deepchat.platform.text.MarkdownNesting;
import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Nesting beyond {@link MarkdownNesting#MAX_DEPTH} is refused at ingestion with a clear error. */
class NestingLimitTest {

  private final DocumentParser parser = new DocumentParser(320, 48);

  @Test
  void deeplyNestedListsAndQuotesAreRefusedWithTheLine() {
    String inline = "# Title\n\nintro\n\n" + "- ".repeat(5_000) + "deep\n";
    assertThatThrownBy(() -> parser.parse("deep.md", SourceFormat.MARKDOWN, inline))
        .isInstanceOfSatisfying(RagException.class, e -> assertThat(e.error()).isEqualTo(RagError.INVALID_INPUT))
        .hasMessageContaining("deep.md nests lists or quotes more than 32 levels deep (line 5)");
    StringBuilder indented = new StringBuilder();
    for (int d = 0; d < 200; d++) {
      indented.append("  ".repeat(d)).append("- item ").append(d).append('\n');
    }
    assertThatThrownBy(() -> parser.parse("indented.md", SourceFormat.MARKDOWN, indented.toString()))
        .hasMessageContaining("more than 32 levels deep (line 33)");
    assertThatThrownBy(() -> parser.parse("quotes.md", SourceFormat.MARKDOWN, "> ".repeat(3_000) + "x"))
        .isInstanceOf(RagException.class);
    String html = "<p>x</p>" + "<ul><li>".repeat(3_000) + "deep" + "</li></ul>".repeat(3_000);
    assertThatThrownBy(() -> parser.parse("deep.html", SourceFormat.HTML, html))
        .isInstanceOf(RagException.class).hasMessageContaining("deep.html nests lists");
  }

  @Test
  void ordinaryNestingAndIndentedCodeAreKept() {
    StringBuilder md = new StringBuilder("# Guide\n\n");
    for (int d = 0; d < 10; d++) {
      md.append("  ".repeat(d)).append(d % 2 == 0 ? "- " : "1. ").append("level ").append(d).append('\n');
    }
    md.append("\n> > > quoted three deep\n\n```yaml\n").append(" ".repeat(120)).append("- deep: yaml\n```\n");
    ParsedDocument parsed = parser.parse("guide.md", SourceFormat.MARKDOWN, md.toString());
    assertThat(parsed.chunks()).isNotEmpty();
    assertThat(String.join("\n", parsed.chunks().stream().map(Chunk::text).toList()))
        .contains("level 9", "quoted three deep", "- deep: yaml");
  }

  @Test
  void depthScanCountsMarkersAndIndentation() {
    assertThat(MarkdownNesting.firstLineDeeperThan("- a\n  - b\n    - c\n", 2)).isEqualTo(3);
    assertThat(MarkdownNesting.firstLineDeeperThan("- a\n  - b\n    - c\n", 3)).isEqualTo(-1);
    assertThat(MarkdownNesting.firstLineDeeperThan("> > 1. x\n", 2)).isEqualTo(1);
    assertThat(MarkdownNesting.firstLineDeeperThan("-- not a list\n1.5 no\n" + " ".repeat(100) + "plain\n", 1))
        .isEqualTo(-1);
  }
}
