package ai.deepchat.chat.intent;

import ai.deepchat.platform.embed.Embedder;
import ai.deepchat.platform.embed.Vectors;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Pattern;

/**
 * How much a question looks like a greeting, small talk or a plain task (write, translate, answer in
 * JSON): the best cosine between the question and the bundled examples ({@code small-talk.txt}), and
 * 1 for a prompt that asks for JSON or carries a JSON object, which is an instruction to the model,
 * never a question for the knowledge base. The examples are embedded once per JVM, on first use.
 */
final class SmallTalk {

  private static final Pattern JSON_PROMPT = Pattern.compile("(?i)\\bjson\\b|\\{\\s*\"[^\"]*\"\\s*:");

  private final Embedder model;
  private volatile List<float[]> examples;

  SmallTalk(Embedder model) {
    this.model = model;
  }

  /** Blocking (embeds the examples on first use): call on the embeddings pool. */
  double score(String text, float[] question) {
    if (JSON_PROMPT.matcher(text).find()) {
      return 1;
    }
    double best = 0;
    for (float[] example : examples()) {
      best = Math.max(best, Vectors.cosine(question, example));
    }
    return best;
  }

  private List<float[]> examples() {
    List<float[]> loaded = examples;
    if (loaded == null) {
      loaded = examplesText().stream().map(e -> model.embed(MatchText.of(e))).toList();
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
