// JNI entry points of ai.deepchat.gpu.engine.NativeEngine: each unpacks arguments, calls the plain
// C++ Engine, and packs the result; all logic lives in src/. The handle is an Engine*.
#include "ai_deepchat_gpu_engine_NativeEngine.h"

#include "engine/engine.h"
#include "jni_util.h"

using dse::Engine;
using namespace dsejni;

namespace {

Engine* engine_of(jlong handle) {
  if (handle == 0) throw dse::EngineError(dse::ErrorKind::kBadRequest, "engine is closed");
  return reinterpret_cast<Engine*>(handle);
}

}  // namespace

JNIEXPORT jlong JNICALL Java_ai_deepchat_gpu_engine_NativeEngine_load(JNIEnv* env, jclass, jstring dir,
                                                                      jstring backend, jint threads, jboolean int8,
                                                                      jint max_sequences, jint max_context) {
  return guarded<jlong>(env, 0, [&] {
    dse::EngineOptions o;
    o.backend = to_string(env, backend);
    o.threads = threads;
    o.int8 = int8 == JNI_TRUE;
    o.max_sequences = max_sequences;
    o.max_context = max_context;
    return reinterpret_cast<jlong>(Engine::load(to_string(env, dir), o).release());
  });
}

JNIEXPORT void JNICALL Java_ai_deepchat_gpu_engine_NativeEngine_close(JNIEnv* env, jclass, jlong handle) {
  guarded<int>(env, 0, [&] {
    delete reinterpret_cast<Engine*>(handle);
    return 0;
  });
}

JNIEXPORT jstring JNICALL Java_ai_deepchat_gpu_engine_NativeEngine_architecture(JNIEnv* env, jclass, jlong handle) {
  return guarded<jstring>(env, nullptr,
                          [&] { return env->NewStringUTF(engine_of(handle)->config().arch_name.c_str()); });
}

JNIEXPORT jintArray JNICALL Java_ai_deepchat_gpu_engine_NativeEngine_info(JNIEnv* env, jclass, jlong handle) {
  return guarded<jintArray>(env, nullptr, [&] {
    Engine* e = engine_of(handle);
    const auto& c = e->config();
    return to_jints(env, {c.vocab_size, e->max_context(), c.bos_token_id, c.hidden_size, c.num_layers, c.num_heads,
                          c.num_kv_heads, e->max_sequences()});
  });
}

JNIEXPORT jintArray JNICALL Java_ai_deepchat_gpu_engine_NativeEngine_eosTokenIds(JNIEnv* env, jclass, jlong handle) {
  return guarded<jintArray>(env, nullptr, [&] { return to_jints(env, engine_of(handle)->config().eos_token_ids); });
}

JNIEXPORT jlong JNICALL Java_ai_deepchat_gpu_engine_NativeEngine_weightBytes(JNIEnv* env, jclass, jlong handle) {
  return guarded<jlong>(env, 0, [&] { return static_cast<jlong>(engine_of(handle)->weight_bytes()); });
}

JNIEXPORT jint JNICALL Java_ai_deepchat_gpu_engine_NativeEngine_start(JNIEnv* env, jclass, jlong handle,
                                                                      jintArray prompt, jfloat temperature,
                                                                      jfloat top_p, jint top_k, jfloat rep_penalty,
                                                                      jlong seed, jint max_tokens, jintArray stops) {
  return guarded<jint>(env, -1, [&] {
    dse::SamplingParams p;
    p.temperature = temperature;
    p.top_p = top_p;
    p.top_k = top_k;
    p.repetition_penalty = rep_penalty;
    p.seed = static_cast<uint64_t>(seed);
    p.max_tokens = max_tokens;
    p.stop_token_ids = to_ints(env, stops);
    return static_cast<jint>(engine_of(handle)->start(to_ints(env, prompt), p));
  });
}

JNIEXPORT void JNICALL Java_ai_deepchat_gpu_engine_NativeEngine_cancel(JNIEnv* env, jclass, jlong handle, jint seq) {
  guarded<int>(env, 0, [&] {
    engine_of(handle)->cancel(seq);
    return 0;
  });
}

JNIEXPORT jintArray JNICALL Java_ai_deepchat_gpu_engine_NativeEngine_step(JNIEnv* env, jclass, jlong handle) {
  return guarded<jintArray>(env, nullptr, [&] {
    std::vector<int> out;
    for (const auto& ev : engine_of(handle)->step()) {
      out.push_back(ev.seq_id);
      out.push_back(ev.token);
      out.push_back(static_cast<int>(ev.finish));
      out.push_back(ev.prompt_tokens);
      out.push_back(ev.completion_tokens);
    }
    return to_jints(env, out);
  });
}

JNIEXPORT jint JNICALL Java_ai_deepchat_gpu_engine_NativeEngine_active(JNIEnv* env, jclass, jlong handle) {
  return guarded<jint>(env, 0, [&] { return static_cast<jint>(engine_of(handle)->active()); });
}

JNIEXPORT jlongArray JNICALL Java_ai_deepchat_gpu_engine_NativeEngine_stats(JNIEnv* env, jclass, jlong handle) {
  return guarded<jlongArray>(env, nullptr, [&] {
    const dse::EngineStats s = engine_of(handle)->stats();
    return to_jlongs(env, {s.active, s.kv_used_tokens, s.kv_total_tokens});
  });
}

JNIEXPORT jfloatArray JNICALL Java_ai_deepchat_gpu_engine_NativeEngine_forwardLogits(JNIEnv* env, jclass,
                                                                                     jlong handle, jintArray tokens,
                                                                                     jboolean all) {
  return guarded<jfloatArray>(env, nullptr, [&] {
    return to_jfloats(env, engine_of(handle)->forward_logits(to_ints(env, tokens), all == JNI_TRUE));
  });
}
