package ai.deepchat.tokenizer.stream;

import ai.deepchat.platform.engine.EngineMessages.ToolCallDelta;
import ai.deepchat.tokenizer.DeepSeekTokenizer;
import ai.deepchat.tokenizer.tools.ToolCallMarkers;
import ai.deepchat.tokenizer.tools.ToolCallParser;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The text side of one generation: token ids in, reasoning and content deltas out. Chains the
 * {@link IncrementalDetokenizer} (special tokens such as EOS dropped), the
 * {@link ReasoningSplitter}, and a {@link StopMatcher} on the content only: a stop string inside the
 * reasoning would cut the model off before it answers. When the vocabulary has DeepSeek's tool-call
 * markers, the first of them ends the text: what the stages hold back goes out, and the rest of the
 * output goes to a {@link ToolCallParser} (markers by id, the text between them decoded), never to
 * the content. Not thread-safe: one per generation.
 */
public final class GenerationText {

  /**
   * @param reasoning reasoning text to send now
   * @param content   answer text to send now
   * @param stopped   a stop string ended the answer; stop generating
   * @param stop      which stop string
   * @param toolCalls pieces of tool calls to send now
   */
  public record Step(String reasoning, String content, boolean stopped, Optional<String> stop,
                     List<ToolCallDelta> toolCalls) {
    public Step(String reasoning, String content, boolean stopped, Optional<String> stop) {
      this(reasoning, content, stopped, stop, List.of());
    }

    public boolean isEmpty() {
      return reasoning.isEmpty() && content.isEmpty() && toolCalls.isEmpty();
    }

    Step withToolCalls(List<ToolCallDelta> pieces) {
      return new Step(reasoning, content, stopped, stop, pieces);
    }
  }

  private final IncrementalDetokenizer detokenizer;
  private final ReasoningSplitter splitter;
  private final StopMatcher stops;
  /** Null when the vocabulary has no tool-call markers. */
  private final ToolCallParser tools;

  /** A generation offered no tools: a tool-call block still ends the text, and its calls are dropped. */
  public GenerationText(DeepSeekTokenizer tokenizer, ReasoningSplitter splitter,
      List<String> stopStrings) {
    this(tokenizer, splitter, stopStrings, Set.of());
  }

  /** {@code offeredTools}: the names of the tools the model may call; calls to any other are dropped. */
  public GenerationText(DeepSeekTokenizer tokenizer, ReasoningSplitter splitter,
      List<String> stopStrings, Set<String> offeredTools) {
    this.detokenizer = new IncrementalDetokenizer(tokenizer, true);
    this.splitter = splitter;
    this.stops = new StopMatcher(stopStrings);
    this.tools = ToolCallMarkers.of(tokenizer).map(m -> new ToolCallParser(m, offeredTools)).orElse(null);
  }

  public Step accept(int tokenId) {
    if (stops.stopped()) {
      return new Step("", "", true, Optional.empty());
    }
    if (tools != null && tools.isMarker(tokenId)) {
      if (!tools.inBlock()) {
        Step before = finishText(); // the answer's text ends where the calls begin
        return before.stopped() ? before : before.withToolCalls(tools.marker(tokenId));
      }
      List<ToolCallDelta> pieces = new ArrayList<>(tools.text(detokenizer.finish()));
      pieces.addAll(tools.marker(tokenId));
      return toolStep(pieces);
    }
    String piece = detokenizer.accept(tokenId);
    if (tools != null && tools.inBlock()) {
      return toolStep(tools.text(piece));
    }
    return apply(splitter.accept(piece));
  }

  /** How many tool calls the output began: a generation that made any finishes with "tool_calls". */
  public int toolCalls() {
    return tools == null ? 0 : tools.calls();
  }

  /** Ends the generation (EOS or length): flushes everything held back. */
  public Step finish() {
    if (stops.stopped()) {
      return new Step("", "", true, Optional.empty());
    }
    if (tools != null && tools.inBlock()) {
      // arguments cut inside a character lose it, rather than end in U+FFFD
      String rest = detokenizer.finish().replaceAll("\uFFFD+$", "");
      List<ToolCallDelta> pieces = new ArrayList<>(tools.text(rest));
      pieces.addAll(tools.finish());
      return toolStep(pieces);
    }
    return finishText();
  }

  private Step finishText() {
    ReasoningSplitter.Delta last = splitter.accept(detokenizer.finish());
    ReasoningSplitter.Delta tail = splitter.finish();
    Step step = apply(new ReasoningSplitter.Delta(last.reasoning() + tail.reasoning(),
        last.content() + tail.content()));
    return step.stopped() ? step
        : new Step(step.reasoning(), step.content() + stops.finish(), false, Optional.empty());
  }

  private static Step toolStep(List<ToolCallDelta> pieces) {
    return new Step("", "", false, Optional.empty(), pieces);
  }

  private Step apply(ReasoningSplitter.Delta delta) {
    StopMatcher.Result result = stops.accept(delta.content());
    return new Step(delta.reasoning(), result.text(), result.stopped(), result.stop());
  }
}
