package ai.deepchat.rag.ingest;

import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * 90 KB inputs on which flexmark 0.64.8, used as it comes, spends seconds to minutes of CPU (its
 * inline parser copies the paragraph at every regex match, scans to its end for every unclosed link,
 * and its heading parser rebuilds the paragraph for every line) or overflows the stack. Each must be
 * chunked, whole. The 10 s parse budget is a correctness guard, not a speed claim: these take
 * milliseconds now, and the budget turns a regression into a failure instead of a hung build. Inputs
 * that took 4 to 9 s at 90 KB are twice that size; a quote's cost shows only at megabytes.
 */
class PathologicalMarkdownTest {

  private static final int SIZE = 90_000;

  private final DocumentParser parser = new DocumentParser(320, 48, Duration.ofSeconds(10));

  static Stream<Arguments> inputs() {
    return Stream.of(
        Arguments.of("unmatched backticks", "`a".repeat(SIZE / 2)),
        Arguments.of("backticks in a list item", "# Slow\n\n- " + "`a".repeat(SIZE / 2)),
        Arguments.of("backtick runs of growing length", growingBacktickRuns()),
        Arguments.of("unclosed links", "[a](".repeat(SIZE / 4)),
        Arguments.of("unclosed links with a destination", "[a](b".repeat(SIZE / 5)),
        Arguments.of("closed links", "[a](b) ".repeat(SIZE / 7)),
        Arguments.of("bracketed text", "[a]".repeat(SIZE / 3)),
        Arguments.of("image brackets", "![[]()".repeat(SIZE / 6)),
        Arguments.of("emphasis closers, multiple of three", "a**b" + "c* ".repeat(2 * SIZE / 3)),
        Arguments.of("link destination in angle brackets", "[a](<" + "b".repeat(SIZE)),
        Arguments.of("brackets and parentheses", "[ (](".repeat(SIZE / 5)),
        Arguments.of("reference definitions", referenceDefinitions(2 * SIZE)),
        Arguments.of("reference definition with a long title", "[a]: b '" + "c".repeat(SIZE)),
        Arguments.of("paragraph lines starting with a dash", "a\n-a\n".repeat(2 * SIZE / 5)),
        Arguments.of("paragraph lines starting with a digit", "a\n2.a\n".repeat(2 * SIZE / 6)),
        Arguments.of("paragraph lines starting with <", "a\n<a\n".repeat(2 * SIZE / 5)),
        Arguments.of("a 2 MB quote", "> a\n".repeat(500_000)),
        Arguments.of("a 90 KB heading of links", "# " + "[a](".repeat(SIZE / 4)),
        Arguments.of("a 90 KB setext heading", "[a](\n".repeat(SIZE / 5) + "===\n"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("inputs")
  void isChunkedWhole(String name, String pathological) {
    String markdown = pathological + "\n\nThe end.\n";
    ParsedDocument parsed = parser.parse("slow.md", SourceFormat.MARKDOWN, markdown);

    List<Chunk> chunks = parsed.chunks();
    assertThat(chunks.get(chunks.size() - 1).text()).endsWith("The end.");
    if (chunks.size() > 1) { // the pathological text itself is indexed, from its first characters
      String first = chunks.get(0).text().replaceAll("\\s", "");
      assertThat(pathological.replaceAll("\\s", "")).contains(first.substring(0, Math.min(first.length(), 40)));
    }
  }

  @Test
  void aLongHeadingIsKeptAsWritten() {
    String heading = "[a](".repeat(LinearInlineParser.MAX_HEADING_CHARS);
    ParsedDocument parsed = parser.parse("h.md", SourceFormat.MARKDOWN, "# " + heading + "\n\nBody.\n");
    assertThat(parsed.title()).isEqualTo(heading);
    assertThat(parsed.chunks()).extracting(Chunk::sectionPath).containsExactly(heading);
  }

  @Test
  void aDocumentOverItsParseBudgetIsRefusedWithTheReason() {
    DocumentParser hurried = new DocumentParser(320, 48, Duration.ofMillis(1));
    String big = "# Manual\n\n" + "Plain sentence number one. And number two follows it.\n\n".repeat(40_000);
    assertThatThrownBy(() -> hurried.parse("big.md", SourceFormat.MARKDOWN, big))
        .isInstanceOfSatisfying(RagException.class, e -> assertThat(e.error()).isEqualTo(RagError.INVALID_INPUT))
        .hasMessageStartingWith("big.md took longer than 1 ms to parse; ");
  }

  private static String growingBacktickRuns() {
    StringBuilder text = new StringBuilder();
    for (int run = 1; text.length() < SIZE; run++) {
      text.append('e').append("`".repeat(run));
    }
    return text.toString();
  }

  private static String referenceDefinitions(int size) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; text.length() < size; i++) {
      text.append('[').append(i).append("]: u\n");
    }
    return text.append("\nText after the definitions.\n").toString();
  }
}
