package ai.deepchat.tokenizer.constrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.deepchat.platform.engine.EngineMessages.OutputConstraint;
import ai.deepchat.platform.engine.EngineMessages.ToolSpec;
import ai.deepchat.tokenizer.Golden;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Constrained decoding over the real DeepSeek-V3 vocabulary with a "model" that picks uniformly among
 * the allowed tokens (as random as the bundled test model, or worse): every output must end by
 * itself within max_tokens and validate against its schema.
 */
class ConstrainedDecoderTest {
  static final int MODEL_VOCAB = 129_280; // DeepSeek-V3's embedding rows, past the tokenizer's ids
  static final int EOS = 1;
  static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  static TokenMasker masker;

  static final String FLAT = """
      {"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},
       "ok":{"type":"boolean"}},"required":["name","age","ok"],"additionalProperties":false}""";
  static final String NESTED = """
      {"type":"object","properties":{
        "tags":{"type":"array","items":{"type":"string","enum":["red","green","blue"]},"minItems":1,"maxItems":3},
        "owner":{"$ref":"#/$defs/person"},
        "score":{"type":["number","null"]},
        "pair":{"type":"array","prefixItems":[{"type":"integer"},{"const":"x"}],"items":false,"minItems":2},
        "kind":{"anyOf":[{"type":"string"},{"type":"object","properties":{"id":{"type":"integer"}},
                 "required":["id"],"additionalProperties":false}]},
        "note":{"type":"string"}},
       "required":["tags","owner","score","pair","kind"],"additionalProperties":false,
       "$defs":{"person":{"type":"object","properties":{"first":{"type":"string"},"langs":{"type":"array",
         "items":{"type":"string"}}},"required":["first","langs"],"additionalProperties":false}}}""";

  @BeforeAll
  static void vocabulary() {
    masker = new TokenMasker(TokenVocabulary.load(Golden.deepSeekV3Dir().resolve("tokenizer.json"), MODEL_VOCAB));
  }

  @Test
  void theDeepSeekVocabularyHasEveryByteAndTheToolMarkers() {
    TokenVocabulary v = masker.vocabulary();
    assertTrue(v.hasSingleBytes());
    for (int id : v.markerIds) {
      assertTrue(id > 0);
    }
  }

  @Test
  void randomOutputsValidateAgainstTheirSchemaAndEndWithinMaxTokens() throws Exception {
    Random rnd = new Random(17);
    for (String schema : List.of(FLAT, NESTED)) {
      JsonSchema validator = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(schema);
      Grammar g = Grammar.of(OutputConstraint.jsonSchema(schema));
      for (int run = 0; run < 12; run++) {
        int maxTokens = g.minTokens() + rnd.nextInt(60);
        String out = generate(g, maxTokens, rnd);
        JsonNode value = JSON.readTree(out);
        Set<ValidationMessage> errors = validator.validate(value);
        assertTrue(errors.isEmpty(), () -> out + " -> " + errors);
      }
    }
  }

  /**
   * The mask's shortcuts (plain and digit tokens taken as a group, a subtree skipped on a refused
   * byte, the budget narrowing a cached mask) give exactly what walking every token id one by one
   * gives, at every step of generations whose max_tokens leaves little slack.
   */
  @Test
  void masksEqualANaiveWalkOfEveryTokenAtEveryStep() {
    Random rnd = new Random(29);
    Grammar calls = Grammar.of(OutputConstraint.toolCalls(List.of(new ToolSpec("f", "", FLAT)), true));
    for (Grammar g : List.of(Grammar.of(OutputConstraint.jsonSchema(FLAT)),
        Grammar.of(OutputConstraint.jsonSchema(NESTED)), Grammar.of(OutputConstraint.jsonObject()), calls)) {
      TokenMasker fresh = new TokenMasker(masker.vocabulary());
      List<MaskBench.Step> steps = new java.util.ArrayList<>();
      while (steps.size() < 100) {
        int maxTokens = g.minTokens() + rnd.nextInt(12);
        State state = g.start();
        for (int left = maxTokens; left > 0; left--) {
          steps.add(new MaskBench.Step(state, left));
          int pick = MaskBench.pick(fresh.allowed(state, left, new int[] {EOS}), rnd);
          if (pick == EOS) {
            break;
          }
          state = fresh.advance(state, pick);
        }
      }
      MaskBench.peer(fresh, steps, 1); // throws when a mask differs
    }
  }

  @Test
  void jsonObjectModeGivesAnObject() throws Exception {
    Random rnd = new Random(5);
    Grammar g = Grammar.of(OutputConstraint.jsonObject());
    assertEquals(3, g.minTokens()); // "{}" and EOS
    for (int run = 0; run < 20; run++) {
      String out = generate(g, 3 + rnd.nextInt(80), rnd);
      assertTrue(JSON.readTree(out).isObject(), out);
    }
  }

  @Test
  void toolCallsFollowDeepSeeksBlockWithValidArguments() throws Exception {
    Random rnd = new Random(3);
    List<ToolSpec> tools = List.of(
        new ToolSpec("get_weather", "", "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},"
            + "\"required\":[\"city\"],\"additionalProperties\":false}"),
        new ToolSpec("now", "", null));
    Pattern call = Pattern.compile("<｜tool▁call▁begin｜>function<｜tool▁sep｜>(get_weather|now)\n```json\n(.*?)\n```"
        + "<｜tool▁call▁end｜>", Pattern.DOTALL);
    for (boolean parallel : new boolean[] {false, true}) {
      Grammar g = Grammar.of(OutputConstraint.toolCalls(tools, parallel));
      for (int run = 0; run < 10; run++) {
        String out = generate(g, g.minTokens() + rnd.nextInt(60), rnd);
        assertTrue(out.startsWith("<｜tool▁calls▁begin｜>") && out.endsWith("<｜tool▁calls▁end｜>"), out);
        Matcher m = call.matcher(out);
        int calls = 0;
        while (m.find()) {
          calls++;
          JsonNode args = JSON.readTree(m.group(2));
          assertTrue(args.isObject(), out);
          if (m.group(1).equals("get_weather")) {
            assertTrue(args.get("city").isTextual(), out);
          } else {
            assertEquals(0, args.size(), out);
          }
        }
        assertTrue(calls >= 1, out);
        if (!parallel) {
          assertEquals(1, calls, out);
        }
      }
    }
  }

  @Test
  void unsupportedKeywordsAreNamedNotRelaxed() {
    SchemaException e = assertThrows(SchemaException.class, () -> Grammar.of(OutputConstraint.jsonSchema(
        "{\"type\":\"object\",\"properties\":{\"code\":{\"type\":\"string\",\"pattern\":\"^[A-Z]+$\"}}}")));
    assertEquals("pattern", e.keyword());
    assertEquals("/properties/code/pattern", e.path());
    assertEquals("$ref", assertThrows(SchemaException.class, () -> Grammar.of(OutputConstraint.jsonSchema(
        "{\"$defs\":{\"n\":{\"type\":\"object\",\"properties\":{\"next\":{\"$ref\":\"#/$defs/n\"}}}},"
            + "\"$ref\":\"#/$defs/n\"}"))).keyword());
    assertEquals("minimum", assertThrows(SchemaException.class, () -> Grammar.of(OutputConstraint.jsonSchema(
        "{\"type\":\"integer\",\"minimum\":3}"))).keyword());
    assertEquals("required", assertThrows(SchemaException.class, () -> Grammar.of(OutputConstraint.jsonSchema(
        "{\"type\":\"object\",\"properties\":{},\"required\":[\"x\"]}"))).keyword());
    assertEquals("schema", assertThrows(SchemaException.class, () -> Grammar.of(OutputConstraint.jsonSchema(
        "{not json"))).keyword());
    String wide = "{\"anyOf\":[" + "{\"type\":\"string\"},".repeat(SchemaCompiler.MAX_ANY_OF) + "{\"type\":\"null\"}]}";
    assertEquals("anyOf", assertThrows(SchemaException.class, () -> Grammar.of(OutputConstraint.jsonSchema(wide))).keyword());
    String deep = "{\"type\":\"array\",\"items\":".repeat(SchemaCompiler.MAX_DEPTH + 1) + "{}"
        + "}".repeat(SchemaCompiler.MAX_DEPTH + 1);
    assertEquals("schema", assertThrows(SchemaException.class, () -> Grammar.of(OutputConstraint.jsonSchema(deep))).keyword());
    SchemaException tool = assertThrows(SchemaException.class, () -> Grammar.of(OutputConstraint.toolCalls(
        List.of(new ToolSpec("f", "", "{\"type\":\"string\",\"format\":\"email\"}")), false)));
    assertEquals("format", tool.keyword());
    assertTrue(tool.getMessage().contains("tool 'f'"), tool.getMessage());
  }

  @Test
  void maxTokensBelowTheShortestOutputIsRefusedUpFront() {
    Grammar g = Grammar.of(OutputConstraint.jsonSchema(FLAT));
    assertThrows(IllegalArgumentException.class, () -> new ConstrainedDecoder(masker, g, g.minTokens() - 1, new int[] {EOS}));
    assertFalse(new ConstrainedDecoder(masker, g, g.minTokens(), new int[] {EOS}).complete());
  }

  @Test
  void aTokenOutsideTheMaskIsRefused() {
    ConstrainedDecoder d = new ConstrainedDecoder(masker, Grammar.of(OutputConstraint.jsonObject()), 10, new int[] {EOS});
    byte[][] bytes = masker.vocabulary().bytes;
    int letterA = java.util.stream.IntStream.range(0, bytes.length)
        .filter(id -> java.util.Arrays.equals(bytes[id], new byte[] {'a'})).findFirst().orElseThrow();
    assertThrows(IllegalStateException.class, () -> d.accept(letterA));
  }

  /** Samples uniformly among the allowed tokens until EOS; fails if the mask is ever empty or the budget runs out. */
  static String generate(Grammar g, int maxTokens, Random rnd) {
    ConstrainedDecoder d = new ConstrainedDecoder(masker, g, maxTokens, new int[] {EOS});
    TokenVocabulary v = masker.vocabulary();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int step = 0; step < maxTokens; step++) {
      long[] mask = d.nextMask();
      int pick = MaskBench.pick(mask, rnd); // throws on an empty mask
      if (pick == EOS) {
        assertTrue(d.complete());
        return out.toString(StandardCharsets.UTF_8);
      }
      d.accept(pick);
      byte[] b = v.bytes[pick];
      if (b == null) {
        int m = indexOf(v.markerIds, pick);
        b = Symbols.MARKER_TEXT[m].getBytes(StandardCharsets.UTF_8);
      }
      out.writeBytes(b);
    }
    throw new AssertionError("no end within " + maxTokens + " tokens: " + out.toString(StandardCharsets.UTF_8));
  }

  private static int indexOf(int[] a, int x) {
    for (int i = 0; i < a.length; i++) {
      if (a[i] == x) {
        return i;
      }
    }
    throw new AssertionError("token " + x + " has no bytes");
  }
}
