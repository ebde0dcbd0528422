package ai.deepchat.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The parts of a model's {@code tokenizer_config.json} that generation needs: the chat template and
 * the BOS/EOS token texts it refers to. HF writes tokens either as plain strings or as
 * {@code {"__type": "AddedToken", "content": ...}} objects; both are accepted.
 *
 * @param chatTemplate the Jinja chat template, empty when the model has none (base models)
 * @param bosToken     BOS token text, empty when not configured
 * @param eosToken     EOS token text, empty when not configured
 * @param source       the file it came from, for error messages
 */
public record TokenizerConfig(Optional<String> chatTemplate, Optional<String> bosToken,
    Optional<String> eosToken, String source) {

  public static final String FILE_NAME = "tokenizer_config.json";

  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** Reads {@code tokenizer_config.json} from a model folder (or the file itself). */
  public static TokenizerConfig load(Path modelDirOrFile) {
    Path file = Files.isDirectory(modelDirOrFile) ? modelDirOrFile.resolve(FILE_NAME)
        : modelDirOrFile;
    JsonNode root;
    try {
      root = MAPPER.readTree(Files.readAllBytes(file));
    } catch (NoSuchFileException e) {
      throw new TokenizerException(FILE_NAME + " not found at " + file, e);
    } catch (IOException e) {
      throw new TokenizerException(file + " is not valid JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new TokenizerException(file + " is not a JSON object");
    }
    return fromJson(root, file.toString());
  }

  /** Parses an already-read config; {@code source} only labels error messages. */
  public static TokenizerConfig fromJson(JsonNode root, String source) {
    return new TokenizerConfig(template(root.get("chat_template"), source),
        tokenText(root.get("bos_token")), tokenText(root.get("eos_token")), source);
  }

  private static Optional<String> tokenText(JsonNode node) {
    if (node == null || node.isNull()) {
      return Optional.empty();
    }
    if (node.isTextual()) {
      return Optional.of(node.asText());
    }
    JsonNode content = node.get("content");
    return content != null && content.isTextual() ? Optional.of(content.asText()) : Optional.empty();
  }

  // HF also allows a list of named templates; "default" is the one apply_chat_template uses.
  private static Optional<String> template(JsonNode node, String source) {
    if (node == null || node.isNull()) {
      return Optional.empty();
    }
    if (node.isTextual()) {
      return Optional.of(node.asText());
    }
    if (node.isArray()) {
      for (JsonNode named : node) {
        if ("default".equals(named.path("name").asText()) && named.path("template").isTextual()) {
          return Optional.of(named.get("template").asText());
        }
      }
      throw new TokenizerException(source + ": chat_template is a list without a \"default\" entry");
    }
    throw new TokenizerException(source + ": chat_template is neither a string nor a list");
  }
}
