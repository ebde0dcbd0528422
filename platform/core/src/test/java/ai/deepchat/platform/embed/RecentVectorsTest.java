package ai.deepchat.platform.embed;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The cache of recent vectors: one model run per tenant, model, kind and text, within its memory bound. */
class RecentVectorsTest {

  /** A stand-in model (a unit test of the cache): a text's vector holds its length, and every run is listed. */
  private static final class Listed implements Embedder {
    final List<String> runs = new ArrayList<>();
    private final String name;

    Listed(String name) {
      this.name = name;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public int dimension() {
      return 4;
    }

    @Override
    public List<float[]> embedPassages(List<String> texts) {
      return texts.stream().map(t -> {
        runs.add("text:" + t);
        return new float[] {t.length(), 1, 0, 0};
      }).toList();
    }

    @Override
    public float[] embedQuery(String query) {
      runs.add("query:" + query);
      return new float[] {query.length(), 0, 1, 0};
    }
  }

  private final UUID a = UUID.randomUUID();
  private final UUID b = UUID.randomUUID();

  @Test
  void aRepeatedTextIsEmbeddedOncePerTenantModelAndKind() {
    RecentVectors cache = new RecentVectors(1 << 20);
    Listed zh = new Listed("zh");
    Listed en = new Listed("en");
    float[] first = cache.embed(a, zh, "how can i contact support");
    assertThat(cache.embed(a, zh, "how can i contact support")).isSameAs(first);
    assertThat(zh.runs).containsExactly("text:how can i contact support");
    assertThat(cache.hits()).isEqualTo(1);
    // another tenant, kind or model is another entry
    cache.embed(b, zh, "how can i contact support");
    cache.embedQuery(a, zh, "how can i contact support");
    cache.embed(a, en, "how can i contact support");
    assertThat(zh.runs).containsExactly("text:how can i contact support", "text:how can i contact support",
        "query:how can i contact support");
    assertThat(en.runs).hasSize(1);
    assertThat(cache.embedQuery(a, zh, "how can i contact support")).containsExactly(25, 0, 1, 0);
    assertThat(cache.hits()).isEqualTo(2);
  }

  @Test
  void theCacheKeepsWithinItsMemoryBound() {
    // an entry of a 4-float vector and a 10-character text weighs 64 + 20 + 16 = 100 bytes
    RecentVectors cache = new RecentVectors(1_000);
    Listed zh = new Listed("zh");
    for (int i = 0; i < 200; i++) {
      cache.embed(a, zh, String.format("text %05d", i));
    }
    zh.runs.clear();
    for (int i = 0; i < 200; i++) {
      cache.embed(a, zh, String.format("text %05d", i));
    }
    // at most 10 of the 200 were still held, so at least 190 ran again
    assertThat(zh.runs.size()).isGreaterThanOrEqualTo(190);
  }
}
