/**
 * Streaming generated text: token ids to text deltas
 * ({@link ai.deepchat.gpu.text.stream.IncrementalDetokenizer}), reasoning versus answer
 * ({@link ai.deepchat.gpu.text.stream.ReasoningSplitter}), stop strings
 * ({@link ai.deepchat.gpu.text.stream.StopMatcher}), and the three chained per generation
 * ({@link ai.deepchat.gpu.text.stream.GenerationText}). All are single-generation, single-thread
 * objects.
 */
package ai.deepchat.gpu.text.stream;
