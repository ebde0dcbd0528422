package ai.deepchat.tokenizer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * What DJL does not expose from tokenizer.json: the added tokens (content, id, special flag) and the
 * vocabulary size. Read with a streaming parser because the file is mostly the 128k-entry vocab and
 * the merges, of which only the ids are needed.
 */
final class AddedTokens {

  final Map<String, Integer> idByContent;
  final Map<Integer, String> contentById;
  final Set<Integer> specialIds;
  /**
   * Ids never shown as text once special tokens are skipped: every added token but the reasoning
   * tags. DeepSeek-V3 marks its chat-control tokens ({@code <｜Assistant｜>}, the tool-call markers)
   * {@code special: false}, so the tokenizer's own skip let them into answers. A bit set: decoding asks
   * once per token of every streamed window, and a {@code Set<Integer>} would box each id. Never
   * changed after construction.
   */
  final BitSet controlIds;
  /** Distinct ids of the model vocab and the added tokens: HF's {@code len(tokenizer)}. */
  final int vocabSize;

  private AddedTokens(Map<String, Integer> idByContent, Set<Integer> specialIds, int vocabSize) {
    this.idByContent = Map.copyOf(idByContent);
    Map<Integer, String> byId = new HashMap<>();
    idByContent.forEach((content, id) -> byId.put(id, content));
    this.contentById = Map.copyOf(byId);
    this.specialIds = Set.copyOf(specialIds);
    BitSet control = new BitSet();
    idByContent.forEach((content, id) -> {
      if (!content.equals("<think>") && !content.equals("</think>")) {
        control.set(id);
      }
    });
    this.controlIds = control;
    this.vocabSize = vocabSize;
  }

  /** Parses tokenizer.json; throws IOException (incl. Jackson's parse errors) on malformed JSON. */
  static AddedTokens parse(byte[] json) throws IOException {
    BitSet vocabIds = new BitSet();
    Map<String, Integer> added = new HashMap<>();
    Set<Integer> special = new HashSet<>();
    boolean sawModel = false;
    try (JsonParser p = new JsonFactory().createParser(json)) {
      expect(p.nextToken(), JsonToken.START_OBJECT, "a JSON object");
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        if ("added_tokens".equals(field) && value == JsonToken.START_ARRAY) {
          readAddedTokens(p, added, special);
        } else if ("model".equals(field) && value == JsonToken.START_OBJECT) {
          sawModel = true;
          readVocabIds(p, vocabIds);
        } else {
          p.skipChildren();
        }
      }
      // Trailing garbage after the top-level object is corruption too.
      if (p.nextToken() != null) {
        throw new IOException("unexpected content after the top-level object");
      }
    }
    if (!sawModel) {
      throw new IOException("no \"model\" object");
    }
    added.values().forEach(vocabIds::set);
    return new AddedTokens(added, special, vocabIds.cardinality());
  }

  private static void readAddedTokens(JsonParser p, Map<String, Integer> added,
      Set<Integer> special) throws IOException {
    while (p.nextToken() == JsonToken.START_OBJECT) {
      String content = null;
      Integer id = null;
      boolean isSpecial = false;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken t = p.nextToken();
        switch (name) {
          case "id" -> id = p.getIntValue();
          case "content" -> content = p.getText();
          case "special" -> isSpecial = t == JsonToken.VALUE_TRUE;
          default -> p.skipChildren();
        }
      }
      if (content == null || id == null) {
        throw new IOException("an added token without \"id\" or \"content\"");
      }
      added.put(content, id);
      if (isSpecial) {
        special.add(id);
      }
    }
  }

  private static void readVocabIds(JsonParser p, BitSet ids) throws IOException {
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken t = p.nextToken();
      if ("vocab".equals(name) && t == JsonToken.START_OBJECT) {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          p.nextToken();
          int id = p.getIntValue();
          if (id < 0) {
            throw new IOException("negative vocab id " + id);
          }
          ids.set(id);
        }
      } else if ("vocab".equals(name) && t == JsonToken.START_ARRAY) {
        // Unigram models list [piece, score] pairs; the id is the position.
        int id = 0;
        while (p.nextToken() != JsonToken.END_ARRAY) {
          p.skipChildren();
          ids.set(id++);
        }
      } else {
        p.skipChildren();
      }
    }
  }

  private static void expect(JsonToken actual, JsonToken expected, String what) throws IOException {
    if (actual != expected) {
      throw new IOException("expected " + what + " at the top level");
    }
  }
}
