package ai.deepchat.chat.api;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The SSE body compresses by itself only where Netty's compressor would have chosen gzip (#25); every other
 * Accept-Encoding stays with Netty. The compressed stream itself: {@code ChatApiIntegrationTest}.
 */
class SseBodyTest {

  @Test
  void gzipIsTakenOnlyWhereNettyWouldChooseIt() {
    for (String yes : new String[] {"gzip", "GZIP", "gzip, deflate", "deflate, gzip", "gzip;q=1", "gzip; q=1.0",
        "gzip, deflate, identity", "gzip,*"}) {
      assertThat(SseBody.gzipAsked(yes)).as(yes).isTrue();
    }
    for (String no : new String[] {"", "identity", "deflate", "gzip;q=0", "gzip;q=0.5, deflate", "gzip, br",
        "gzip, deflate, br, zstd", "br", "x-gzip", "gzip;q=1;foo=bar"}) {
      assertThat(SseBody.gzipAsked(no)).as(no).isFalse();
    }
    assertThat(SseBody.gzipAsked(null)).isFalse();
  }
}
