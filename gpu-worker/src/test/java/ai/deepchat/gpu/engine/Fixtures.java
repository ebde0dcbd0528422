package ai.deepchat.gpu.engine;

import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

/** Test fixtures: the tiny HF reference models copied into test resources (scripts/copy-fixtures.sh). */
final class Fixtures {
  private Fixtures() {}

  /** Skips (not passes) native tests only when the build was told to skip native code. */
  static void requireNative() {
    assumeFalse(Boolean.getBoolean("native.skip"), "native.skip=true: native engine not built");
  }

  static Path model(String name) {
    return resource("/fixtures/models/" + name);
  }

  /** A LoRA test adapter of a tiny model (scripts/make_lora_fixtures.py): "a", "b" or "a-merged". */
  static Path lora(String model, String adapter) {
    return resource("/fixtures/lora/" + model + "/" + adapter);
  }

  private static Path resource(String name) {
    URL url = Fixtures.class.getResource(name);
    if (url == null) throw new IllegalStateException("fixture missing: " + name);
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static JsonNode golden(String name) throws IOException {
    return new ObjectMapper().readTree(model(name).resolve("golden.json").toFile());
  }

  static int[] ints(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
    return out;
  }

  static EngineOptions options() {
    return new EngineOptions("cpu", 2, false, 4, 0);
  }
}
