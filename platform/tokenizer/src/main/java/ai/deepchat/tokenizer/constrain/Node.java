package ai.deepchat.tokenizer.constrain;

/** A compiled piece of grammar (a JSON value of some schema); immutable and shared by every state. */
interface Node {

  /** The state before any of this value's output. */
  State start();

  /** The length in symbols of this value's shortest output. */
  int minLen();
}
