package ai.deepchat.gpu.testmodel;

import ai.deepchat.platform.engine.EngineMessages;
import ai.deepchat.tokenizer.BundledTokenizer;
import ai.deepchat.tokenizer.DeepSeekTokenizer;
import ai.deepchat.tokenizer.TokenizerConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The model a fresh install serves when neither a model folder nor a remote API is configured: a
 * tiny Qwen2-shaped checkpoint with random (seeded) weights and the real DeepSeek-V3 tokenizer, so
 * every path (tokenizer, chat template, engine, streaming) runs for real. Its answers are noise; the
 * widget and console say so. Written once into the data directory (about 17 MB).
 */
public final class TinyTestModel {

  public static final String MODEL_KEY = EngineMessages.TEST_MODEL_KEY;
  static final int HIDDEN = 64;
  static final int LAYERS = 2;
  static final int HEADS = 4;
  static final int KV_HEADS = 2;
  static final int INTERMEDIATE = 128;
  static final int VOCAB = 129280; // the DeepSeek-V3 tokenizer's
  private static final long SEED = 20261123L;

  private TinyTestModel() {
  }

  /** Returns the model folder under {@code dataDir}, creating it on first use. */
  public static Path ensure(Path dataDir) {
    Path dir = dataDir.resolve("models").resolve(MODEL_KEY);
    Path done = dir.resolve(".complete");
    if (Files.exists(done)) {
      return dir;
    }
    try {
      Files.createDirectories(dir);
      BundledTokenizer.copy(DeepSeekTokenizer.FILE_NAME, dir.resolve(DeepSeekTokenizer.FILE_NAME));
      BundledTokenizer.copy(TokenizerConfig.FILE_NAME, dir.resolve(TokenizerConfig.FILE_NAME));
      Files.writeString(dir.resolve("config.json"), config());
      Path tmp = dir.resolve("model.safetensors.tmp");
      weights().write(tmp);
      Files.move(tmp, dir.resolve("model.safetensors"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      Files.writeString(done, "ok\n");
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the bundled test model to " + dir + ": " + e.getMessage(), e);
    }
  }

  static String config() {
    return """
        {
          "architectures": ["Qwen2ForCausalLM"],
          "model_type": "qwen2",
          "hidden_size": %d,
          "intermediate_size": %d,
          "num_hidden_layers": %d,
          "num_attention_heads": %d,
          "num_key_value_heads": %d,
          "vocab_size": %d,
          "max_position_embeddings": 4096,
          "rms_norm_eps": 1e-06,
          "rope_theta": 10000.0,
          "hidden_act": "silu",
          "tie_word_embeddings": true,
          "bos_token_id": 0,
          "eos_token_id": 1,
          "torch_dtype": "bfloat16"
        }
        """.formatted(HIDDEN, INTERMEDIATE, LAYERS, HEADS, KV_HEADS, VOCAB);
  }

  static SafetensorsWriter weights() {
    SplittableRandom random = new SplittableRandom(SEED);
    SafetensorsWriter w = new SafetensorsWriter();
    int headDim = HIDDEN / HEADS;
    int kv = KV_HEADS * headDim;
    w.add("model.embed_tokens.weight", normal(random, VOCAB * HIDDEN, 0.5f), VOCAB, HIDDEN);
    for (int l = 0; l < LAYERS; l++) {
      String p = "model.layers." + l + ".";
      w.add(p + "input_layernorm.weight", ones(HIDDEN), HIDDEN);
      w.add(p + "post_attention_layernorm.weight", ones(HIDDEN), HIDDEN);
      w.add(p + "self_attn.q_proj.weight", normal(random, HIDDEN * HIDDEN, 0.1f), HIDDEN, HIDDEN);
      w.add(p + "self_attn.q_proj.bias", normal(random, HIDDEN, 0.1f), HIDDEN);
      w.add(p + "self_attn.k_proj.weight", normal(random, kv * HIDDEN, 0.1f), kv, HIDDEN);
      w.add(p + "self_attn.k_proj.bias", normal(random, kv, 0.1f), kv);
      w.add(p + "self_attn.v_proj.weight", normal(random, kv * HIDDEN, 0.1f), kv, HIDDEN);
      w.add(p + "self_attn.v_proj.bias", normal(random, kv, 0.1f), kv);
      w.add(p + "self_attn.o_proj.weight", normal(random, HIDDEN * HIDDEN, 0.1f), HIDDEN, HIDDEN);
      w.add(p + "mlp.gate_proj.weight", normal(random, INTERMEDIATE * HIDDEN, 0.1f), INTERMEDIATE, HIDDEN);
      w.add(p + "mlp.up_proj.weight", normal(random, INTERMEDIATE * HIDDEN, 0.1f), INTERMEDIATE, HIDDEN);
      w.add(p + "mlp.down_proj.weight", normal(random, HIDDEN * INTERMEDIATE, 0.1f), HIDDEN, INTERMEDIATE);
    }
    w.add("model.norm.weight", ones(HIDDEN), HIDDEN);
    return w;
  }

  /**
   * Writes a Hugging Face PEFT LoRA adapter for this model into {@code dir} (created): rank 4 on every
   * attention and MLP projection, random A and B from {@code seed} (PEFT starts B at zero; random B
   * makes the adapter change the answers). For tests of adapter versions and rollouts.
   */
  public static void writeAdapter(Path dir, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    int rank = 4;
    int kv = KV_HEADS * (HIDDEN / HEADS);
    SafetensorsWriter w = new SafetensorsWriter();
    record Projection(String module, int out, int in) {
    }
    List<Projection> projections = List.of(new Projection("self_attn.q_proj", HIDDEN, HIDDEN),
        new Projection("self_attn.k_proj", kv, HIDDEN), new Projection("self_attn.v_proj", kv, HIDDEN),
        new Projection("self_attn.o_proj", HIDDEN, HIDDEN), new Projection("mlp.gate_proj", INTERMEDIATE, HIDDEN),
        new Projection("mlp.up_proj", INTERMEDIATE, HIDDEN), new Projection("mlp.down_proj", HIDDEN, INTERMEDIATE));
    for (int l = 0; l < LAYERS; l++) {
      for (Projection m : projections) {
        String name = "base_model.model.model.layers." + l + "." + m.module();
        w.add(name + ".lora_A.weight", normal(random, rank * m.in(), 0.3f), rank, m.in());
        w.add(name + ".lora_B.weight", normal(random, m.out() * rank, 0.3f), m.out(), rank);
      }
    }
    try {
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("adapter_config.json"), """
          {"peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": "%s", "r": %d,
           "lora_alpha": 8, "lora_dropout": 0.0, "bias": "none", "use_rslora": false, "use_dora": false,
           "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]}
          """.formatted(MODEL_KEY, rank));
      w.write(dir.resolve("adapter_model.safetensors"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write a test adapter to " + dir + ": " + e.getMessage(), e);
    }
  }

  private static float[] normal(SplittableRandom random, int n, float std) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      // Box-Muller on the seeded generator: reproducible across JVMs
      double u1 = 1.0 - random.nextDouble();
      double u2 = random.nextDouble();
      v[i] = (float) (Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2) * std);
    }
    return v;
  }

  private static float[] ones(int n) {
    float[] v = new float[n];
    java.util.Arrays.fill(v, 1f);
    return v;
  }
}
