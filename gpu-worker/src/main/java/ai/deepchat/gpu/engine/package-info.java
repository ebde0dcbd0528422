/**
 * Java API of the native DeepSeek inference engine (C++ in {@code gpu-worker/native}, reached
 * through JNI). Token ids in, token ids out: tokenization, chat templates and stop strings live
 * elsewhere.
 *
 * <pre>{@code
 * try (Engine engine = Engine.load(Path.of("/models/DeepSeek-V2-Lite"), EngineOptions.cpu())) {
 *   Sequence s = engine.start(promptIds, Sampling.greedy(256, engine.info().eosTokenIds()), listener);
 *   ...
 *   s.cancel();   // e.g. the client went away
 * }
 * }</pre>
 *
 * <p>{@link ai.deepchat.gpu.engine.Engine#load} and
 * {@link ai.deepchat.gpu.engine.Engine#forwardLogits} block and belong on worker verticles;
 * {@link ai.deepchat.gpu.engine.Engine#start} returns at once and the engine's scheduler thread
 * delivers tokens to the {@link ai.deepchat.gpu.engine.TokenListener}. Every native failure arrives
 * as an {@link ai.deepchat.gpu.engine.EngineException} with a {@code Kind}.
 */
package ai.deepchat.gpu.engine;
