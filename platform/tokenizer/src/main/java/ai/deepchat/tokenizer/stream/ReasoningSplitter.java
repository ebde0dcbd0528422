package ai.deepchat.tokenizer.stream;

/**
 * Splits a DeepSeek-R1 style stream, {@code <think>reasoning</think>answer}, into reasoning and
 * content deltas, whatever way the tags are cut across deltas.
 *
 * <p>Two starts: the model writes {@code <think>} itself ({@link #thinkingInOutput()}; without it the
 * whole output is content), or the chat template already ended the prompt with {@code <think>\n}
 * ({@link #thinkingOpenedByPrompt()}, newer R1 templates; output starts inside the reasoning, and a
 * repeated {@code <think>} is dropped). {@link #forPrompt(String)} picks from the rendered prompt.
 *
 * <p>What comes out, for a whole output {@code t}: let {@code s = t.lstrip()}, minus a leading
 * {@code <think>}. Reasoning is {@code s} up to the first {@code </think>}, stripped of surrounding
 * whitespace; content is what follows the tag, without leading whitespace (the model writes
 * {@code </think>\n\n}). Without a closing tag everything is reasoning. Only text that may still
 * turn out to be a tag, or whitespace that may turn out to be trimmed, is held back.
 * Not thread-safe: one instance per generation.
 */
public final class ReasoningSplitter {

  public static final String OPEN = "<think>";
  public static final String CLOSE = "</think>";

  /** Text for each channel; either may be empty. */
  public record Delta(String reasoning, String content) {
    static final Delta EMPTY = new Delta("", "");

    public boolean isEmpty() {
      return reasoning.isEmpty() && content.isEmpty();
    }
  }

  private enum State {
    /** Before the first non-whitespace text: is it {@code <think>}? */
    START,
    REASONING,
    /** After {@code </think>}: leading whitespace is dropped. */
    CONTENT_START,
    CONTENT
  }

  private final boolean openedByPrompt;
  private State state = State.START;
  /** Text not emitted yet: a possible tag prefix, or whitespace that may be trimmed. */
  private String pending = "";
  /** In REASONING, whether any reasoning character has been emitted (leading ws is dropped). */
  private boolean reasoningStarted;

  private ReasoningSplitter(boolean openedByPrompt) {
    this.openedByPrompt = openedByPrompt;
  }

  /** The model opens its reasoning with {@code <think>}, if at all. */
  public static ReasoningSplitter thinkingInOutput() {
    return new ReasoningSplitter(false);
  }

  /** The prompt ended with {@code <think>}: output starts inside the reasoning. */
  public static ReasoningSplitter thinkingOpenedByPrompt() {
    return new ReasoningSplitter(true);
  }

  /** Raw text, for a raw prompt's completion: everything is content, whitespace and tags as generated. */
  public static ReasoningSplitter plainText() {
    ReasoningSplitter s = new ReasoningSplitter(false);
    s.state = State.CONTENT;
    return s;
  }

  /** Chooses the mode from the rendered prompt: opened when it ends with {@code <think>}. */
  public static ReasoningSplitter forPrompt(String renderedPrompt) {
    return new ReasoningSplitter(renderedPrompt.stripTrailing().endsWith(OPEN));
  }

  public Delta accept(String text) {
    pending += text;
    StringBuilder reasoning = new StringBuilder();
    StringBuilder content = new StringBuilder();
    advance(reasoning, content, false);
    return delta(reasoning, content);
  }

  /** Ends the stream: releases what was held for a tag that never completed. */
  public Delta finish() {
    StringBuilder reasoning = new StringBuilder();
    StringBuilder content = new StringBuilder();
    advance(reasoning, content, true);
    pending = "";
    return delta(reasoning, content);
  }

  /** Whether the stream is past the reasoning (the answer has begun or will). */
  public boolean inContent() {
    return state == State.CONTENT_START || state == State.CONTENT;
  }

  private void advance(StringBuilder reasoning, StringBuilder content, boolean end) {
    while (true) {
      switch (state) {
        case START -> {
          String s = pending.stripLeading();
          if (s.startsWith(OPEN)) {
            pending = s.substring(OPEN.length());
            state = State.REASONING;
            continue;
          }
          if (!end && OPEN.startsWith(s)) {
            return; // only whitespace, or a prefix of <think>, so far
          }
          if (openedByPrompt) {
            pending = s;
            state = State.REASONING;
            continue;
          }
          // No reasoning block: the output is all content, as written.
          content.append(pending);
          pending = "";
          state = State.CONTENT;
          return;
        }
        case REASONING -> {
          if (!reasoningStarted) {
            pending = pending.stripLeading();
          }
          int close = pending.indexOf(CLOSE);
          if (close >= 0) {
            emitReasoning(reasoning, pending.substring(0, close).stripTrailing());
            pending = pending.substring(close + CLOSE.length());
            state = State.CONTENT_START;
            continue;
          }
          int hold = end ? pending.length() - pending.stripTrailing().length()
              : heldTail(pending);
          emitReasoning(reasoning, pending.substring(0, pending.length() - hold));
          pending = end ? "" : pending.substring(pending.length() - hold);
          return;
        }
        case CONTENT_START -> {
          pending = pending.stripLeading();
          if (pending.isEmpty()) {
            return;
          }
          state = State.CONTENT;
          continue;
        }
        case CONTENT -> {
          content.append(pending);
          pending = "";
          return;
        }
        default -> throw new IllegalStateException(state.name());
      }
    }
  }

  private void emitReasoning(StringBuilder reasoning, String text) {
    if (!text.isEmpty()) {
      reasoning.append(text);
      reasoningStarted = true;
    }
  }

  /**
   * How much of the end of reasoning text to hold: a possible start of {@code </think>}, and the
   * whitespace before it (trimmed if the tag follows).
   */
  private static int heldTail(String text) {
    int partial = 0;
    for (int len = Math.min(CLOSE.length() - 1, text.length()); len > 0; len--) {
      if (text.regionMatches(text.length() - len, CLOSE, 0, len)) {
        partial = len;
        break;
      }
    }
    int cut = text.length() - partial;
    while (cut > 0 && Character.isWhitespace(text.charAt(cut - 1))) {
      cut--;
    }
    return text.length() - cut;
  }

  private static Delta delta(StringBuilder reasoning, StringBuilder content) {
    return reasoning.isEmpty() && content.isEmpty() ? Delta.EMPTY
        : new Delta(reasoning.toString(), content.toString());
  }
}
