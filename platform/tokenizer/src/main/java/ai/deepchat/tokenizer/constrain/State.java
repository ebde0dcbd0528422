package ai.deepchat.tokenizer.constrain;

/**
 * Where an automaton is in the output: immutable, compared by value (equal states allow the same
 * continuations, which is what lets {@link TokenMasker} cache a token mask per state). Input symbols
 * are bytes 0-255 of the UTF-8 output and, above them, the {@link Symbols} markers that stand for
 * special tokens.
 */
interface State {

  /** The state after {@code symbol}, or null when the output may not continue with it. */
  State step(int symbol);

  /** Whether the output may end here. */
  boolean accepting();

  /**
   * The fewest symbols that lead from here to an accepting state (exact: some symbol lowers it by
   * one). Every byte and marker is one token of a byte-level vocabulary, so it bounds the tokens
   * needed to finish, which is how generation ends within max_tokens.
   */
  int minRemaining();

  /**
   * Whether every "plain" byte sequence (printable ASCII but {@code "} and {@code \}, and whole
   * UTF-8 characters) leaves this state unchanged: true inside a free JSON string, where most of a
   * vocabulary is allowed and need not be walked token by token. A container is as its value is.
   */
  default boolean plainStable() {
    State value = inner();
    return value != null && value.plainStable();
  }

  /**
   * How many more ASCII digits this state takes, each leaving it as it is but for a digit count
   * (same phase, same minRemaining): inside a number's digits, where the digit-only tokens need not
   * be walked token by token. -1 where a digit does anything else. A container is as its value is.
   */
  default int digitRoom() {
    State value = inner();
    return value == null ? -1 : value.digitRoom();
  }

  /**
   * This state with {@code room} for digits (where {@link #digitRoom} is at least that): past the
   * longest run of digits any token starts with, states differing only in their room allow the same
   * tokens with the same needs, so the masks of all but the last few digits of a number are shared.
   */
  default State withDigitRoom(int room) {
    return this;
  }

  /**
   * Inside a container, the state of the value being written, which every byte goes to first: while
   * it takes the bytes the container is {@link #withInner} of its result, needing a fixed amount more
   * than it; once it is complete and refuses a byte, the container goes on. Null elsewhere.
   */
  default State inner() {
    return null;
  }

  /** This container with its value's state replaced (only where {@link #inner} is not null). */
  default State withInner(State value) {
    throw new UnsupportedOperationException();
  }
}
