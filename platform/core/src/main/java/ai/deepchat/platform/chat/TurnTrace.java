package ai.deepchat.platform.chat;

import ai.deepchat.platform.chat.ChatMessages.QueryTranslation;
import ai.deepchat.platform.engine.EngineMessages.Usage;

import java.util.List;
import java.util.Map;

/**
 * Why one turn was answered the way it was, for staff (the console's playground and conversations) and
 * for API callers who ask for it ({@code X-DeepChat-Trace: 1}): the routing decision with its scores, the
 * FAQ candidates, the retrieval hits with their scores, the model version that answered and why,
 * moderation hits, tokens, where the time went, and the query translation searched beside the question
 * ({@code translation}: null when the router searched no knowledge base). Filled along the pipeline, built
 * only for turns that asked for it, sent with the final event and stored with the answer (messages.trace).
 */
public record TurnTrace(Routing routing, List<FaqCandidate> faqCandidates, Retrieval retrieval, ModelPick model,
                        Moderation moderation, Usage tokens, Latency latency, QueryTranslation translation) {

  /** A trace whose turn searched no knowledge base with a translation ({@code translation} null). */
  public TurnTrace(Routing routing, List<FaqCandidate> faqCandidates, Retrieval retrieval, ModelPick model,
                   Moderation moderation, Usage tokens, Latency latency) {
    this(routing, faqCandidates, retrieval, model, moderation, tokens, latency, null);
  }

  /** Where the answer came from, whatever the router chose. */
  public static final String FROM_FAQ = "faq";
  public static final String FROM_MODEL = "model";
  public static final String FROM_CACHE = "cache";
  public static final String FROM_PLUGIN = "plugin";
  public static final String FROM_BLOCKED = "blocked";
  public static final String FROM_REPLAY = "replay";

  /**
   * The router's decision: {@code intent} (faq, knowledge, chat, or plugin/blocked when the router was not
   * asked), its {@code score}, per-path {@code scores} (path → score; what the router reports), the FAQ
   * {@code threshold} when known (null otherwise), and {@code answeredFrom} (FROM_*).
   */
  public record Routing(String intent, double score, Map<String, Double> scores, Double threshold,
                        String answeredFrom) {
  }

  /** An FAQ entry the question was compared with; {@code matched}: it answered. */
  public record FaqCandidate(String faqId, double score, boolean matched) {
  }

  /** What retrieval returned; {@code hits} in rank order, {@code cited} when the prompt used the hit. */
  public record Retrieval(String knowledgeBaseId, long knowledgeBaseVersion, List<Hit> hits) {
  }

  public record Hit(int rank, String documentId, String documentTitle, String sectionPath, double lexicalScore,
                    double vectorScore, double fusedScore, boolean cited) {
  }

  /**
   * The model version that answered (null when none did: FAQ, cache, plugin, refusal): its name, version
   * id (null: the platform default), {@code arm} (default, stable, canary, ab, shadow) and the reason in words.
   */
  public record ModelPick(String name, String versionId, String arm, String reason, boolean testModel) {
  }

  /**
   * The tenant's word list on this turn: {@code input} allow, mask or block with the matched entries;
   * {@code output} none, blocked_word or prompt_leak with the entries the answer reached.
   */
  public record Moderation(String input, List<String> inputWords, String output, List<String> outputWords) {
  }

  /**
   * Milliseconds, measured on the pipeline node: {@code queueMs} from the turn's arrival to its start
   * (input moderation, model choice, the user turn stored; input moderation only for a turn routed
   * before it is stored: a tenant without plugins), {@code routingMs} plugins and the router
   * without its retrieval, {@code retrievalMs} the knowledge base search (the router's wait for it as the
   * router measured it), {@code firstTokenMs} from asking the model to its first token (its queue and
   * prefill), {@code generationMs} from the first token to the last, {@code totalMs} from arrival to the
   * complete answer (before it is stored). The parts are disjoint: their sum is at most the total (the
   * rest is prompt building and bus hops). A step that did not run is 0.
   */
  public record Latency(double queueMs, double routingMs, double retrievalMs, double firstTokenMs,
                        double generationMs, double totalMs) {
  }
}
