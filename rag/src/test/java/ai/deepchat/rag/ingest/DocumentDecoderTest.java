package ai.deepchat.rag.ingest;

import ai.deepchat.rag.RagException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DocumentDecoderTest {

  @Test
  void aNulByteAnywhereIsRefusedNotOnlyInTheFirst64KiB() {
    String text = "# Manual\n\n" + "plain text line\n".repeat(8_000); // about 128 KiB
    assertThat(DocumentDecoder.decode("manual.md", text.getBytes(StandardCharsets.UTF_8))).startsWith("# Manual");
    byte[] late = (text + "tail\u0000end\n").getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> DocumentDecoder.decode("manual.md", late)).isInstanceOf(RagException.class)
        .hasMessageContaining("binary");
  }
}
