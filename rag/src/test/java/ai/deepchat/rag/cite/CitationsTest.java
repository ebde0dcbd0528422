package ai.deepchat.rag.cite;

import ai.deepchat.platform.rag.RagMessages.RetrievedChunk;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class CitationsTest {

  private static RetrievedChunk hit(String id, String title, String section, String text) {
    return new RetrievedChunk(id, "doc-" + id, title, section, text, 0, 0, 0);
  }

  @Test
  void numbersChunksAndMapsMarkersBack() {
    Citations.Context context = Citations.number(List.of(
        hit("1", "Orbit Server Guide", "Orbit Server Guide > Installation > Linux", "Use apt.\n"),
        hit("2", "星云云盘常见问题", "星云云盘常见问题 > 计费 > 退款政策", "七天内可退款。"),
        hit("3", "notes", "", "Antenna on the roof.")));
    assertThat(context.block()).isEqualTo("""
        [1] Orbit Server Guide › Installation › Linux
        Use apt.

        [2] 星云云盘常见问题 › 计费 › 退款政策
        七天内可退款。

        [3] notes
        Antenna on the roof.""");
    List<Citations.Citation> cited = context.cited("可以退款 [2]。Install with apt [1][2], see [3, 1] and [7].");
    assertThat(cited).extracting(Citations.Citation::number).containsExactly(2, 1, 3);
    assertThat(cited.get(0).documentTitle()).isEqualTo("星云云盘常见问题");
    assertThat(cited.get(0).sectionPath()).endsWith("退款政策");
    assertThat(cited.get(1).documentId()).isEqualTo("doc-1");
    assertThat(context.cited("no markers")).isEmpty();
  }
}
