package ai.deepchat.launcher;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * logprobs, top_logprobs and seed of the OpenAI API on one node with the bundled tiny checkpoint: real
 * HTTP, API key, PostgreSQL and native engine. The model is random, so the tests assert structure and
 * reproducibility, never words. Run as a nested class of {@link ChatOnRealEngineTest}, on its node:
 * a node of its own would cost the suite most of a minute.
 */
abstract class ChoicesOnRealEngine {

  static final HttpClient HTTP = HttpClient.newHttpClient();

  private static HttpResponse<String> post(String body) throws Exception {
    return post(body, null);
  }

  private static HttpResponse<String> post(String body, String idempotencyKey) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ChatOnRealEngineTest.node.httpPort() + "/v1/chat/completions"))
        .header("Authorization", "Bearer " + ChatOnRealEngineTest.apiKey).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (idempotencyKey != null) {
      b.header("Idempotency-Key", idempotencyKey);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String ask(String extra) {
    return "{\"messages\":[{\"role\":\"user\",\"content\":\"Name three lamps.\"}],\"max_tokens\":8" + extra + "}";
  }

  private static JsonObject whole(String extra) throws Exception {
    HttpResponse<String> r = post(ask(extra));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return new JsonObject(r.body());
  }

  /** Every token of the answer with its log-probability, bytes and sorted alternatives. */
  private static void assertWellFormed(JsonArray content, int completionTokens, int top) {
    assertThat(content).hasSize(completionTokens);
    for (int i = 0; i < content.size(); i++) {
      JsonObject t = content.getJsonObject(i);
      assertThat(t.getString("token")).isNotNull();
      assertThat(t.getDouble("logprob")).isLessThanOrEqualTo(0.0);
      assertThat(t.getJsonArray("bytes")).isNotNull();
      JsonArray alts = t.getJsonArray("top_logprobs");
      assertThat(alts).hasSize(top);
      for (int j = 1; j < alts.size(); j++) {
        assertThat(alts.getJsonObject(j).getDouble("logprob"))
            .isLessThanOrEqualTo(alts.getJsonObject(j - 1).getDouble("logprob"));
      }
    }
  }

  @Test
  void greedyAnswerCarriesTheLogprobOfEveryToken() throws Exception {
    JsonObject body = whole(",\"temperature\":0,\"logprobs\":true,\"top_logprobs\":3");
    JsonObject choice = body.getJsonArray("choices").getJsonObject(0);
    JsonArray content = choice.getJsonObject("logprobs").getJsonArray("content");
    assertWellFormed(content, body.getJsonObject("usage").getInteger("completion_tokens"), 3);
    for (int i = 0; i < content.size(); i++) {
      JsonObject t = content.getJsonObject(i);
      JsonObject best = t.getJsonArray("top_logprobs").getJsonObject(0);
      // greedy: the chosen token is the argmax, first among the alternatives with the same logprob
      assertThat(best.getString("token")).isEqualTo(t.getString("token"));
      assertThat(best.getJsonArray("bytes")).isEqualTo(t.getJsonArray("bytes"));
      assertThat(best.getDouble("logprob")).isEqualTo(t.getDouble("logprob"));
    }
  }

  @Test
  void withoutLogprobsTheFieldIsNull() throws Exception {
    JsonObject choice = whole(",\"temperature\":0").getJsonArray("choices").getJsonObject(0);
    assertThat(choice.containsKey("logprobs")).isTrue();
    assertThat(choice.getValue("logprobs")).isNull();
  }

  @Test
  void streamedChunksCarryTheLogprobsOfTheirTokens() throws Exception {
    HttpResponse<String> r = post(ask(",\"stream\":true,\"temperature\":0.7,\"logprobs\":true"));
    assertThat(r.statusCode()).isEqualTo(200);
    List<JsonObject> chunks = r.body().lines().filter(l -> l.startsWith("data: {"))
        .map(l -> new JsonObject(l.substring(6))).toList();
    JsonArray all = new JsonArray();
    for (JsonObject c : chunks) {
      JsonArray choices = c.getJsonArray("choices");
      if (!choices.isEmpty() && choices.getJsonObject(0).getJsonObject("logprobs") != null) {
        all.addAll(choices.getJsonObject(0).getJsonObject("logprobs").getJsonArray("content"));
      }
    }
    int completion = chunks.get(chunks.size() - 1).getJsonObject("usage").getInteger("completion_tokens");
    assertWellFormed(all, completion, 0);
  }

  @Test
  void theSameSeedGivesTheSameTokensAndOtherSeedsOtherOnes() throws Exception {
    List<String> first = tokens(whole(",\"temperature\":1.0,\"seed\":42,\"logprobs\":true"));
    assertThat(tokens(whole(",\"temperature\":1.0,\"seed\":42,\"logprobs\":true"))).isEqualTo(first);
    List<List<String>> others = new ArrayList<>();
    for (int seed = 1; seed <= 3; seed++) {
      others.add(tokens(whole(",\"temperature\":1.0,\"seed\":" + seed + ",\"logprobs\":true")));
    }
    assertThat(others).as("a random model at temperature 1 over 8 tokens").anySatisfy(t -> assertThat(t).isNotEqualTo(first));
  }

  @Test
  void nChoicesAreSeededOneAfterAnotherAndCountThePromptOnce() throws Exception {
    String sampled = ",\"temperature\":1.0,\"logprobs\":true,\"seed\":";
    JsonObject three = whole(sampled + "7,\"n\":3");
    JsonArray choices = three.getJsonArray("choices");
    assertThat(choices).hasSize(3);
    int completion = 0;
    for (int i = 0; i < 3; i++) {
      JsonObject choice = choices.getJsonObject(i);
      assertThat(choice.getInteger("index")).isEqualTo(i);
      assertThat(choice.getString("finish_reason")).isIn("stop", "length");
      completion += choice.getJsonObject("logprobs").getJsonArray("content").size();
    }
    JsonObject one = whole(sampled + "7");
    JsonObject usage = three.getJsonObject("usage");
    assertThat(usage.getInteger("completion_tokens")).isEqualTo(completion);
    assertThat(usage.getInteger("prompt_tokens")).isEqualTo(one.getJsonObject("usage").getInteger("prompt_tokens"));
    // choice i is seed + i: the same tokens as a one-choice request with that seed
    assertThat(tokens(three, 0)).isEqualTo(tokens(one, 0));
    assertThat(tokens(three, 1)).isEqualTo(tokens(whole(sampled + "8"), 0));
  }

  @Test
  void nChoicesStreamWithTheirIndexAndOneUsage() throws Exception {
    HttpResponse<String> r = post(ask(",\"stream\":true,\"temperature\":0.9,\"n\":2"));
    assertThat(r.statusCode()).isEqualTo(200);
    List<String> data = r.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
    assertThat(data.get(data.size() - 1)).isEqualTo("[DONE]");
    List<JsonObject> chunks = data.subList(0, data.size() - 1).stream().map(JsonObject::new).toList();
    int[] finishes = new int[2];
    List<JsonObject> usages = new ArrayList<>();
    for (JsonObject c : chunks) {
      if (c.getJsonObject("usage") != null) {
        usages.add(c.getJsonObject("usage"));
      }
      for (Object o : c.getJsonArray("choices")) {
        JsonObject choice = (JsonObject) o;
        if (choice.getString("finish_reason") != null) {
          finishes[choice.getInteger("index")]++;
        }
      }
    }
    assertThat(finishes).containsExactly(1, 1);
    assertThat(usages).hasSize(1);
    assertThat(chunks.get(chunks.size() - 1).getJsonObject("usage")).isNotNull();
  }

  @Test
  void anIdempotentRetryOfNChoicesReplaysEveryChoice() throws Exception {
    String body = ask(",\"temperature\":1.0,\"n\":2");
    String key = "choices-" + java.util.UUID.randomUUID();
    HttpResponse<String> first = post(body, key);
    HttpResponse<String> again = post(body, key);
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
    JsonArray a = new JsonObject(first.body()).getJsonArray("choices");
    JsonArray b = new JsonObject(again.body()).getJsonArray("choices");
    assertThat(b).hasSize(2);
    for (int i = 0; i < 2; i++) {
      assertThat(b.getJsonObject(i).getJsonObject("message").getString("content"))
          .isEqualTo(a.getJsonObject(i).getJsonObject("message").getString("content"));
    }
  }

  private static List<String> tokens(JsonObject body) {
    return tokens(body, 0);
  }

  private static List<String> tokens(JsonObject body, int choice) {
    JsonArray content = body.getJsonArray("choices").getJsonObject(choice).getJsonObject("logprobs").getJsonArray("content");
    List<String> out = new ArrayList<>();
    for (int i = 0; i < content.size(); i++) {
      out.add(content.getJsonObject(i).getString("token") + content.getJsonObject(i).getJsonArray("bytes"));
    }
    return out;
  }

  @Test
  void badChoiceFieldsAre400NamingTheField() throws Exception {
    assertProblem(",\"top_logprobs\":2", "invalid_top_logprobs");
    assertProblem(",\"logprobs\":true,\"top_logprobs\":21", "invalid_top_logprobs");
    assertProblem(",\"logprobs\":\"yes\"", "invalid_logprobs");
    assertProblem(",\"seed\":1.5", "invalid_seed");
    assertProblem(",\"n\":9", "invalid_n");
    assertProblem(",\"n\":0", "invalid_n");
  }

  private static void assertProblem(String extra, String code) throws Exception {
    HttpResponse<String> r = post(ask(extra));
    assertThat(r.statusCode()).as(extra).isEqualTo(400);
    assertThat(new JsonObject(r.body()).getJsonObject("error").getString("code")).as(r.body()).isEqualTo(code);
  }

  // ---- POST /v1/completions (legacy, raw prompt) ----

  private static HttpResponse<String> legacy(String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ChatOnRealEngineTest.node.httpPort()
            + "/v1/completions"))
        .header("Authorization", "Bearer " + ChatOnRealEngineTest.apiKey).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonObject legacyWhole(String fields) throws Exception {
    HttpResponse<String> r = legacy("{\"prompt\":\"Once upon a time\",\"max_tokens\":6" + fields + "}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return new JsonObject(r.body());
  }

  @Test
  void completionsTakeTheRawPromptWithoutTheChatTemplate() throws Exception {
    JsonObject body = legacyWhole(",\"temperature\":0,\"logprobs\":2");
    assertThat(body.getString("object")).isEqualTo("text_completion");
    assertThat(body.getString("id")).startsWith("cmpl-");
    JsonObject usage = body.getJsonObject("usage");
    // BOS and four words: the chat template with the workspace's system prompt would be dozens
    assertThat(usage.getInteger("prompt_tokens")).isBetween(4, 8);
    JsonObject choice = body.getJsonArray("choices").getJsonObject(0);
    assertThat(choice.getString("finish_reason")).isIn("stop", "length");
    JsonObject lp = choice.getJsonObject("logprobs");
    int completion = usage.getInteger("completion_tokens");
    assertThat(lp.getJsonArray("tokens")).hasSize(completion);
    assertThat(lp.getJsonArray("token_logprobs")).hasSize(completion);
    assertThat(lp.getJsonArray("text_offset")).hasSize(completion);
    for (int i = 0; i < completion; i++) {
      JsonObject top = lp.getJsonArray("top_logprobs").getJsonObject(i);
      assertThat(top.size()).isBetween(1, 2);
      // greedy: the chosen token is the best alternative
      assertThat(top.getDouble(lp.getJsonArray("tokens").getString(i)))
          .isEqualTo(lp.getJsonArray("token_logprobs").getDouble(i));
    }
  }

  @Test
  void streamedCompletionEqualsTheWholeOneAndEndsWithUsage() throws Exception {
    var registry = ai.deepchat.platform.metrics.PlatformMetrics.get().registry();
    double streamsBefore = completeStreams(registry);
    String whole = legacyWhole(",\"temperature\":0").getJsonArray("choices").getJsonObject(0).getString("text");
    // counted with the chat answers' per-tenant stream metrics
    assertThat(completeStreams(registry)).isEqualTo(streamsBefore + 1);
    HttpResponse<String> r = legacy("{\"prompt\":\"Once upon a time\",\"max_tokens\":6,\"temperature\":0,"
        + "\"stream\":true}");
    assertThat(r.statusCode()).isEqualTo(200);
    List<String> data = r.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
    assertThat(data.get(data.size() - 1)).isEqualTo("[DONE]");
    List<JsonObject> chunks = data.subList(0, data.size() - 1).stream().map(JsonObject::new).toList();
    StringBuilder text = new StringBuilder();
    int finishes = 0;
    for (JsonObject c : chunks) {
      assertThat(c.getString("object")).isEqualTo("text_completion");
      for (Object o : c.getJsonArray("choices")) {
        JsonObject choice = (JsonObject) o;
        text.append(choice.getString("text"));
        finishes += choice.getString("finish_reason") == null ? 0 : 1;
      }
    }
    assertThat(text.toString()).isEqualTo(whole);
    assertThat(finishes).isEqualTo(1);
    assertThat(chunks.get(chunks.size() - 1).getJsonObject("usage").getInteger("prompt_tokens")).isBetween(4, 8);
  }

  private static double completeStreams(io.micrometer.core.instrument.MeterRegistry registry) {
    return registry.find("deepchat.chat.streams").tag("outcome", "complete").counters().stream()
        .mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
  }

  @Test
  void echoPrependsThePromptAndNGivesSeededChoices() throws Exception {
    JsonObject echoed = legacyWhole(",\"temperature\":0,\"echo\":true");
    assertThat(echoed.getJsonArray("choices").getJsonObject(0).getString("text")).startsWith("Once upon a time");
    JsonObject two = legacyWhole(",\"temperature\":1,\"seed\":5,\"n\":2");
    JsonObject one = legacyWhole(",\"temperature\":1,\"seed\":6");
    assertThat(two.getJsonArray("choices")).hasSize(2);
    assertThat(two.getJsonArray("choices").getJsonObject(1).getString("text"))
        .isEqualTo(one.getJsonArray("choices").getJsonObject(0).getString("text"));
  }

  @Test
  void unsupportedCompletionFieldsAre400NamingThem() throws Exception {
    assertLegacyProblem("{\"prompt\":\"a\",\"suffix\":\"b\"}", "invalid_suffix");
    assertLegacyProblem("{\"prompt\":[\"a\",\"b\"]}", "invalid_prompt");
    assertLegacyProblem("{\"prompt\":[1,2,3]}", "invalid_prompt");
    assertLegacyProblem("{\"max_tokens\":3}", "invalid_prompt");
    assertLegacyProblem("{\"prompt\":\"a\",\"logprobs\":6}", "invalid_logprobs");
    assertLegacyProblem("{\"prompt\":\"a\",\"logprobs\":1,\"echo\":true}", "invalid_echo");
    assertLegacyProblem("{\"prompt\":\"a\",\"n\":9}", "invalid_n");
    HttpResponse<String> unknown = legacy("{\"prompt\":\"a\",\"model\":\"no-such-model\"}");
    assertThat(unknown.statusCode()).isEqualTo(404);
    HttpResponse<String> anonymous = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
            + ChatOnRealEngineTest.node.httpPort() + "/v1/completions"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"a\"}")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(anonymous.statusCode()).isEqualTo(401);
  }

  private static void assertLegacyProblem(String body, String code) throws Exception {
    HttpResponse<String> r = legacy(body);
    assertThat(r.statusCode()).as(body).isEqualTo(400);
    assertThat(new JsonObject(r.body()).getJsonObject("error").getString("code")).as(r.body()).isEqualTo(code);
  }

  @Test
  void theWordListChecksTheRawPrompt() throws Exception {
    var db = ChatOnRealEngineTest.node.platform().database();
    java.util.UUID tenant = ChatOnRealEngineTest.tenant;
    Node.await(db.inTenant(tenant, c -> c.preparedQuery(
        "INSERT INTO sensitive_words (tenant_id, word) VALUES ($1, 'zanzibarquux')").execute(io.vertx.sqlclient.Tuple.of(tenant))));
    ai.deepchat.policy.moderation.ModerationService.publishChanged(ChatOnRealEngineTest.node.vertx(), tenant);
    try {
      ai.deepchat.platform.testing.Await.until("the word list is in force", java.time.Duration.ofSeconds(10), () -> {
        HttpResponse<String> r = legacy("{\"prompt\":\"tell me about zanzibarquux\",\"max_tokens\":4}");
        return r.statusCode() == 200 && "content_filter".equals(new JsonObject(r.body()).getJsonArray("choices")
            .getJsonObject(0).getString("finish_reason"));
      });
      JsonObject body = new JsonObject(legacy("{\"prompt\":\"tell me about zanzibarquux\",\"max_tokens\":4,"
          + "\"n\":2}").body());
      assertThat(body.getJsonObject("usage").getInteger("completion_tokens")).isZero();
      assertThat(body.getJsonArray("choices")).hasSize(2).allSatisfy(c -> {
        assertThat(((JsonObject) c).getString("finish_reason")).isEqualTo("content_filter");
        assertThat(((JsonObject) c).getString("text")).doesNotContain("zanzibarquux");
      });
    } finally {
      Node.await(db.inTenant(tenant, c -> c.query(
          "DELETE FROM sensitive_words WHERE word = 'zanzibarquux'").execute()));
      ai.deepchat.policy.moderation.ModerationService.publishChanged(ChatOnRealEngineTest.node.vertx(), tenant);
    }
  }
}
