package ai.deepchat.gpu.worker;

import ai.deepchat.platform.engine.EngineMessages.TokenLogprob;
import ai.deepchat.platform.engine.EngineMessages.TopLogprob;
import ai.deepchat.gpu.engine.Logprobs;
import ai.deepchat.tokenizer.ByteLevel;
import ai.deepchat.tokenizer.DeepSeekTokenizer;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Each token id's own bytes and text, for log-probabilities: OpenAI sends every token with its UTF-8
 * bytes, and a byte-level BPE token may hold part of a character, so its bytes come from the
 * vocabulary (GPT-2's byte-to-character map undone), not from decoding it alone. Tokenizers without a
 * ByteLevel decoder, and added tokens, use their decoded text. The text of a partial character shows
 * U+FFFD, as vLLM shows it.
 */
final class TokenPieces {

  private final byte[][] bytes;
  private final String[] texts;

  private TokenPieces(byte[][] bytes) {
    this.bytes = bytes;
    this.texts = new String[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      texts[i] = bytes[i] == null ? null : new String(bytes[i], StandardCharsets.UTF_8);
    }
  }

  /** Reads {@code tokenizer.json} of a model folder; blocks (a few hundred ms for 129k tokens). */
  static TokenPieces load(Path modelDir, DeepSeekTokenizer tokenizer) {
    JsonObject json;
    try {
      json = new JsonObject(Buffer.buffer(Files.readAllBytes(modelDir.resolve(DeepSeekTokenizer.FILE_NAME))));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    byte[][] bytes = new byte[tokenizer.vocabSize()][];
    JsonObject decoder = json.getJsonObject("decoder");
    JsonObject model = json.getJsonObject("model");
    if (decoder != null && "ByteLevel".equals(decoder.getString("type")) && model != null
        && model.getValue("vocab") instanceof JsonObject vocab) {
      for (Map.Entry<String, Object> e : vocab) {
        if (e.getValue() instanceof Number id && id.intValue() >= 0 && id.intValue() < bytes.length) {
          bytes[id.intValue()] = ByteLevel.decode(e.getKey()); // null: decoded text instead
        }
      }
    }
    for (int id = 0; id < bytes.length; id++) {
      if (bytes[id] == null || tokenizer.idToToken(id).isPresent()) {
        bytes[id] = tokenizer.decode(new int[] {id}).getBytes(StandardCharsets.UTF_8);
      }
    }
    return new TokenPieces(bytes);
  }

  /** The OpenAI log-probability record of one generated token. */
  TokenLogprob logprob(int token, Logprobs lp) {
    List<TopLogprob> top = new ArrayList<>(lp.topIds().length);
    for (int i = 0; i < lp.topIds().length; i++) {
      int id = lp.topIds()[i];
      top.add(new TopLogprob(text(id), lp.topLogprobs()[i], byteList(id)));
    }
    return new TokenLogprob(text(token), lp.logprob(), byteList(token), top);
  }

  String text(int id) {
    return id >= 0 && id < texts.length ? texts[id] : "";
  }

  private List<Integer> byteList(int id) {
    byte[] b = id >= 0 && id < bytes.length ? bytes[id] : new byte[0];
    List<Integer> out = new ArrayList<>(b.length);
    for (byte x : b) {
      out.add(x & 0xff);
    }
    return out;
  }
}
