/**
 * Streaming generated text: token ids to text deltas
 * ({@link ai.deepchat.tokenizer.stream.IncrementalDetokenizer}), reasoning versus answer
 * ({@link ai.deepchat.tokenizer.stream.ReasoningSplitter}), stop strings
 * ({@link ai.deepchat.tokenizer.stream.StopMatcher}), and the three chained per generation
 * ({@link ai.deepchat.tokenizer.stream.GenerationText}). All are single-generation, single-thread
 * objects.
 */
package ai.deepchat.tokenizer.stream;
