package ai.deepchat.chat.dispatch;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.parsetools.RecordParser;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The streamed answer's line cutter (#25) gives exactly the lines Vert.x's RecordParser gave, however the
 * stream is cut into chunks (lines whole in a chunk, split across two or many, empty, with {@code \r}),
 * and refuses a line over its limit wherever it is split.
 */
class SseLinesTest {

  @Test
  void randomStreamsCutAnywhereGiveTheRecordParsersLines() {
    Random random = new Random(25);
    for (int round = 0; round < 500; round++) {
      String alphabet = "ab\r é中\"{:";
      StringBuilder text = new StringBuilder();
      int lines = random.nextInt(20);
      for (int i = 0; i < lines; i++) {
        int len = random.nextInt(random.nextBoolean() ? 8 : 600);
        for (int j = 0; j < len; j++) {
          text.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        text.append('\n');
      }
      if (random.nextBoolean()) {
        text.append("data: unfinished"); // never ended: neither gives it
      }
      byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);

      List<String> expected = new ArrayList<>();
      RecordParser parser = RecordParser.newDelimited("\n", b -> expected.add(b.toString(StandardCharsets.UTF_8)));
      List<String> actual = new ArrayList<>();
      SseLines cutter = new SseLines(1 << 20, (b, from, to) -> actual.add(new String(b, from, to - from, StandardCharsets.UTF_8)));
      int at = 0;
      while (at < bytes.length) {
        int n = Math.min(bytes.length - at, random.nextInt(4) == 0 ? 1 + random.nextInt(3) : random.nextInt(900));
        Buffer chunk = Buffer.buffer(java.util.Arrays.copyOfRange(bytes, at, at + n));
        parser.handle(chunk);
        assertThat(cutter.accept(chunk)).isTrue();
        at += n;
      }
      assertThat(actual).as("round %d", round).isEqualTo(expected);
    }
  }

  @Test
  void aLineOverTheLimitIsRefusedWholeOrSplit() {
    List<String> lines = new ArrayList<>();
    SseLines whole = new SseLines(10, (b, from, to) -> lines.add(new String(b, from, to - from, StandardCharsets.UTF_8)));
    assertThat(whole.accept(Buffer.buffer("0123456789\n"))).isTrue();
    assertThat(whole.accept(Buffer.buffer("0123456789A\n"))).isFalse();

    SseLines split = new SseLines(10, (b, from, to) -> lines.add(new String(b, from, to - from, StandardCharsets.UTF_8)));
    assertThat(split.accept(Buffer.buffer("01234"))).isTrue();
    assertThat(split.accept(Buffer.buffer("56789"))).isTrue();
    assertThat(split.accept(Buffer.buffer("\n012345"))).isTrue();
    assertThat(split.accept(Buffer.buffer("6789AB"))).isFalse(); // never ended, yet already too long
    assertThat(lines).containsExactly("0123456789", "0123456789");
  }
}
