/**
 * Text in and out of the engine: {@link ai.deepchat.tokenizer.DeepSeekTokenizer} (a model folder's HF
 * {@code tokenizer.json}, run offline through DJL) and {@link ai.deepchat.tokenizer.TokenizerConfig}
 * ({@code tokenizer_config.json}).
 *
 * <p>A turn goes: {@code template.ChatTemplate} renders the messages to the prompt text, which is
 * encoded with {@code encode(prompt, false)} (the template already wrote BOS, as HF's
 * {@code apply_chat_template} does); generated ids come back through {@code stream.GenerationText}
 * as reasoning and content deltas.
 */
package ai.deepchat.tokenizer;
