/**
 * Constrained decoding (JSON mode, JSON Schema, DeepSeek tool calls): a schema is compiled into an
 * automaton over output bytes ({@link ai.deepchat.tokenizer.constrain.Grammar}), a vocabulary is laid
 * out once for walking ({@link ai.deepchat.tokenizer.constrain.TokenVocabulary}), and per state the
 * allowed tokens become a bitmask ({@link ai.deepchat.tokenizer.constrain.TokenMasker}) the engine's
 * sampler applies. No whitespace is generated outside strings; keys come in schema order; the
 * shortest completion of every state is known, so output ends valid within max_tokens.
 */
package ai.deepchat.tokenizer.constrain;
