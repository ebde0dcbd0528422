package ai.deepchat.gpu.engine;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Broken checkpoints through JNI: each is an EngineException naming the problem, never a JVM crash. */
class EngineBadCheckpointTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void nativeBuilt() {
    Fixtures.requireNative();
  }

  /** Copies tiny-llama into dir with its safetensors header edited (data section unchanged). */
  private static Path brokenCopy(Path dir, Consumer<ObjectNode> editHeader) throws IOException {
    Path src = Fixtures.model("tiny-llama");
    Files.copy(src.resolve("config.json"), dir.resolve("config.json"));
    byte[] all = Files.readAllBytes(src.resolve("model.safetensors"));
    long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    ObjectNode header = (ObjectNode) JSON.readTree(new String(all, 8, (int) n, StandardCharsets.UTF_8));
    editHeader.accept(header);
    byte[] h = JSON.writeValueAsBytes(header);
    ByteBuffer out = ByteBuffer.allocate(8 + h.length + all.length - 8 - (int) n).order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(h.length).put(h).put(Arrays.copyOfRange(all, 8 + (int) n, all.length));
    Files.write(dir.resolve("model.safetensors"), out.array());
    return dir;
  }

  private static void assertLoadFails(Path dir, EngineException.Kind kind, String fragment) {
    assertThatThrownBy(() -> Engine.load(dir, Fixtures.options()))
        .isInstanceOf(EngineException.class).hasMessageContaining(fragment)
        .extracting(e -> ((EngineException) e).kind()).isEqualTo(kind);
  }

  @Test
  void missingTensor(@TempDir Path dir) throws IOException {
    brokenCopy(dir, h -> h.set("renamed.weight", h.remove("model.layers.2.mlp.down_proj.weight")));
    assertLoadFails(dir, EngineException.Kind.BAD_CHECKPOINT, "missing tensor 'model.layers.2.mlp.down_proj.weight'");
  }

  @Test
  void wrongShape(@TempDir Path dir) throws IOException {
    brokenCopy(dir, h -> {
      ArrayNode shape = ((ObjectNode) h.get("model.layers.0.self_attn.o_proj.weight")).putArray("shape");
      shape.add(32).add(128);  // same element count, wrong layout
    });
    assertLoadFails(dir, EngineException.Kind.BAD_CHECKPOINT,
        "'model.layers.0.self_attn.o_proj.weight' has shape [32, 128], expected [64, 64]");
  }

  @Test
  void unsupportedDtype(@TempDir Path dir) throws IOException {
    brokenCopy(dir, h -> ((ObjectNode) h.get("model.norm.weight")).put("dtype", "I32"));
    assertLoadFails(dir, EngineException.Kind.UNSUPPORTED, "unsupported dtype I32");
  }

  @Test
  void unknownBackend() {
    assertThatThrownBy(() -> Engine.load(Fixtures.model("tiny-llama"), new EngineOptions("cuda:0", 1, false, 1, 0)))
        .isInstanceOf(EngineException.class).hasMessageContaining("cuda:0")
        .extracting(e -> ((EngineException) e).kind()).isEqualTo(EngineException.Kind.UNSUPPORTED);
  }
}
