package ai.deepchat.chat.intent;

import ai.deepchat.platform.embed.Embedder;
import ai.deepchat.platform.embed.Vectors;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * How much a question looks like a greeting, small talk or a plain task (write, translate, answer in
 * JSON): the best cosine between the question and the bundled examples ({@code small-talk.txt}), and
 * 1 for a prompt that asks for JSON or carries a JSON object, which is an instruction to the model,
 * never a question for the knowledge base. The examples are embedded once per JVM, on first use.
 * Without the model ({@link #lexical}) only those prompts and the examples' own texts are recognized.
 */
final class SmallTalk {

  private static final Pattern JSON_PROMPT = Pattern.compile("(?i)\\bjson\\b|\\{\\s*\"[^\"]*\"\\s*:");

  /** The score of a question that was not compared with the examples (like retrieval's -1: not run). */
  static final double NOT_SCORED = -1;

  private final Embedder model;
  /** The examples in {@link MatchText} form. */
  private final Set<String> texts = examplesText().stream().map(MatchText::of).collect(Collectors.toUnmodifiableSet());
  /** Their vectors by text, once embedded. */
  private volatile Map<String, float[]> examples;

  SmallTalk(Embedder model) {
    this.model = model;
  }

  /** Blocking (embeds the examples on first use): call on the embeddings pool. */
  double score(String text, float[] question) {
    if (JSON_PROMPT.matcher(text).find()) {
      return 1;
    }
    double best = 0;
    for (float[] example : examples().values()) {
      best = Math.max(best, Vectors.cosine(question, example));
    }
    return best;
  }

  /**
   * The score without the model: 1 for a JSON prompt or a question that is one of the examples
   * ({@code normalized}: its {@link MatchText} form), else {@link #NOT_SCORED}.
   */
  double lexical(String text, String normalized) {
    return JSON_PROMPT.matcher(text).find() || texts.contains(normalized) ? 1 : NOT_SCORED;
  }

  /** Blocking (as {@link #score}): the vector of the example whose text is {@code normalized}, or null. */
  float[] vectorOf(String normalized) {
    return texts.contains(normalized) ? examples().get(normalized) : null;
  }

  private Map<String, float[]> examples() {
    Map<String, float[]> loaded = examples;
    if (loaded == null) {
      Map<String, float[]> embedded = new LinkedHashMap<>();
      texts.forEach(t -> embedded.put(t, model.embed(t)));
      loaded = Map.copyOf(embedded);
      examples = loaded;
    }
    return loaded;
  }

  static List<String> examplesText() {
    try (InputStream in = SmallTalk.class.getResourceAsStream("small-talk.txt")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
          .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    } catch (IOException | NullPointerException e) {
      throw new IllegalStateException("small-talk.txt missing from the verticles jar", e);
    }
  }
}
