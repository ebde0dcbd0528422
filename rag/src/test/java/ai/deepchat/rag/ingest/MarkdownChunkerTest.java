package ai.deepchat.rag.ingest;

import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MarkdownChunkerTest {

  @Test
  void headingsGiveSectionPaths() {
    String md = """
        # Guide

        Intro text.

        ## Install

        ### Linux

        Run the installer.

        ### Windows

        Double-click setup.exe.

        ## Usage

        Start it.
        """;
    List<Chunk> chunks = new MarkdownChunker(100, 10).chunkMarkdown(md);
    assertThat(chunks).extracting(Chunk::sectionPath)
        .containsExactly("Guide", "Guide > Install > Linux", "Guide > Install > Windows", "Guide > Usage");
    assertThat(chunks.get(1).text()).isEqualTo("Run the installer.");
    assertThat(chunks).extracting(Chunk::ordinal).containsExactly(0, 1, 2, 3);
    assertThat(MarkdownChunker.titleOf(md)).isEqualTo("Guide");
  }

  @Test
  void tablesListsAndCodeAreNeverCut() {
    StringBuilder table = new StringBuilder("| key | value |\n|---|---|\n");
    for (int i = 0; i < 60; i++) {
      table.append("| row").append(i).append(" | some value number ").append(i).append(" |\n");
    }
    StringBuilder list = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      list.append("- item ").append(i).append(" explains one more thing\n");
    }
    String code = "```java\n" + "int x = 1;\n".repeat(80) + "```";
    String md = "# T\n\nBefore.\n\n" + table + "\n" + list + "\n" + code + "\n\nAfter.\n";
    List<Chunk> chunks = new MarkdownChunker(64, 16).chunkMarkdown(md);
    assertThat(chunks).anySatisfy(c -> assertThat(c.text()).contains("| row0 |").contains("| row59 |"));
    assertThat(chunks).anySatisfy(c -> assertThat(c.text()).contains("- item 0").contains("- item 39"));
    assertThat(chunks).anySatisfy(c -> assertThat(c.text()).startsWith("```java").endsWith("```"));
    assertThat(chunks).noneSatisfy(c -> assertThat(c.text()).contains("| row30 |").doesNotContain("| row0 |"));
  }

  @Test
  void longChineseProseSplitsAtSentenceEndsWithOverlap() {
    String sentence = "系统会自动备份所有的数据到云端存储中。";
    String md = "# 备份\n\n" + sentence.repeat(40) + "\n";
    List<Chunk> chunks = new MarkdownChunker(80, 20).chunkMarkdown(md);
    assertThat(chunks).hasSizeGreaterThan(5);
    for (Chunk chunk : chunks) {
      assertThat(chunk.text()).endsWith("。");
      assertThat(chunk.tokenCount()).isLessThanOrEqualTo(80);
      assertThat(chunk.sectionPath()).isEqualTo("备份");
    }
    assertThat(chunks.get(1).text()).startsWith(sentence);
  }

  @Test
  void sentenceSplitterUnderstandsChinesePunctuation() {
    assertThat(SentenceSplitter.split("你好！今天天气怎么样？很好。他说：“走吧。”然后……离开了；完 Pi is 3.14. Done"))
        .containsExactly("你好！", "今天天气怎么样？", "很好。", "他说：“走吧。”", "然后……", "离开了；",
            "完 Pi is 3.14. ", "Done");
  }

  @Test
  void htmlIsConvertedToMarkdown() {
    String html = "<html><body><h1>Manual</h1><h2>Reset</h2><p>Hold the button for <b>ten</b> seconds.</p>"
        + "<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table></body></html>";
    ParsedDocument doc = new DocumentParser(100, 10).parse("m.html", SourceFormat.HTML, html);
    assertThat(doc.title()).isEqualTo("Manual");
    assertThat(doc.chunks()).anySatisfy(c -> {
      assertThat(c.sectionPath()).isEqualTo("Manual > Reset");
      assertThat(c.text()).contains("**ten** seconds").contains("| a | b |");
    });
  }

  @Test
  void badBytesAreRefusedClearly() {
    assertThatThrownBy(() -> DocumentDecoder.decode("e.md", new byte[0]))
        .isInstanceOf(RagException.class).hasMessageContaining("empty");
    assertThatThrownBy(() -> DocumentDecoder.decode("b.md", new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 0, 1}))
        .isInstanceOf(RagException.class).hasMessageContaining("binary");
    assertThatThrownBy(() -> DocumentDecoder.decode("u.md", new byte[] {'a', (byte) 0xC3, (byte) 0x28, 'b'}))
        .isInstanceOf(RagException.class).hasMessageContaining("UTF-8");
    assertThatThrownBy(() -> DocumentDecoder.decode("w.md", " \n\t ".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(RagException.class).hasMessageContaining("no text");
    assertThatThrownBy(() -> SourceFormat.of("x.exe"))
        .isInstanceOf(RagException.class)
        .satisfies(e -> assertThat(((RagException) e).error()).isEqualTo(RagError.UNSUPPORTED_TYPE));
    assertThat(DocumentDecoder.decode("bom.md", "\uFEFF# Hi".getBytes(StandardCharsets.UTF_8))).isEqualTo("# Hi");
  }
}
