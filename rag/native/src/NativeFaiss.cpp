// JNI glue of ai.deepchat.rag.faiss.NativeFaiss: each entry point converts arguments, calls
// faiss_ops and turns any C++ exception into a Java FaissException (never over a pending one).
#include "ai_deepchat_rag_faiss_NativeFaiss.h"
#include "faiss_ops.h"

#include <faiss/impl/FaissException.h>

#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

jclass g_faiss_exception = nullptr;

void throw_faiss(JNIEnv* env, const char* message) {
  if (env->ExceptionCheck()) {
    return;  // keep the first, more precise, exception
  }
  env->ThrowNew(g_faiss_exception, message);
}

faiss::Index* index_of(jlong handle) {
  if (handle == 0) {
    throw std::invalid_argument("null index handle");
  }
  return reinterpret_cast<faiss::Index*>(handle);
}

std::string to_string(JNIEnv* env, jstring s) {
  if (s == nullptr) {
    throw std::invalid_argument("null string");
  }
  const char* chars = env->GetStringUTFChars(s, nullptr);
  if (chars == nullptr) {
    throw std::bad_alloc();
  }
  std::string out(chars);
  env->ReleaseStringUTFChars(s, chars);
  return out;
}

std::vector<float> to_floats(JNIEnv* env, jfloatArray a) {
  std::vector<float> out(env->GetArrayLength(a));
  env->GetFloatArrayRegion(a, 0, static_cast<jsize>(out.size()), out.data());
  return out;
}

std::vector<deepchat::idx_t> to_ids(JNIEnv* env, jlongArray a) {
  std::vector<deepchat::idx_t> out(env->GetArrayLength(a));
  static_assert(sizeof(jlong) == sizeof(deepchat::idx_t), "64-bit ids");
  env->GetLongArrayRegion(a, 0, static_cast<jsize>(out.size()),
                          reinterpret_cast<jlong*>(out.data()));
  return out;
}

}  // namespace

#define JNI_TRY try {
#define JNI_CATCH(env)                                           \
  }                                                              \
  catch (const faiss::FaissException& e) {                       \
    throw_faiss(env, e.what());                                  \
  }                                                              \
  catch (const std::bad_alloc&) {                                \
    throw_faiss(env, "out of native memory");                    \
  }                                                              \
  catch (const std::exception& e) {                              \
    throw_faiss(env, e.what());                                  \
  }                                                              \
  catch (...) {                                                  \
    throw_faiss(env, "unknown native error");                    \
  }

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM* vm, void*) {
  JNIEnv* env = nullptr;
  if (vm->GetEnv(reinterpret_cast<void**>(&env), JNI_VERSION_1_8) != JNI_OK) {
    return JNI_ERR;
  }
  jclass local = env->FindClass("ai/deepchat/rag/faiss/FaissException");
  if (local == nullptr) {
    return JNI_ERR;
  }
  g_faiss_exception = static_cast<jclass>(env->NewGlobalRef(local));
  env->DeleteLocalRef(local);
  return JNI_VERSION_1_8;
}

JNIEXPORT void JNICALL JNI_OnUnload(JavaVM* vm, void*) {
  JNIEnv* env = nullptr;
  if (vm->GetEnv(reinterpret_cast<void**>(&env), JNI_VERSION_1_8) == JNI_OK && g_faiss_exception) {
    env->DeleteGlobalRef(g_faiss_exception);
  }
}

JNIEXPORT jlong JNICALL Java_ai_deepchat_rag_faiss_NativeFaiss_create(
    JNIEnv* env, jclass, jint dim, jstring factory, jint metric) {
  JNI_TRY
  return reinterpret_cast<jlong>(deepchat::create_index(
      dim, to_string(env, factory), static_cast<deepchat::Metric>(metric)));
  JNI_CATCH(env)
  return 0;
}

JNIEXPORT jlong JNICALL Java_ai_deepchat_rag_faiss_NativeFaiss_read(
    JNIEnv* env, jclass, jstring path) {
  JNI_TRY
  return reinterpret_cast<jlong>(deepchat::read_index(to_string(env, path)));
  JNI_CATCH(env)
  return 0;
}

JNIEXPORT void JNICALL Java_ai_deepchat_rag_faiss_NativeFaiss_write(
    JNIEnv* env, jclass, jlong handle, jstring path) {
  JNI_TRY
  deepchat::write_index(index_of(handle), to_string(env, path));
  JNI_CATCH(env)
}

JNIEXPORT void JNICALL Java_ai_deepchat_rag_faiss_NativeFaiss_free(JNIEnv* env, jclass, jlong handle) {
  JNI_TRY
  delete index_of(handle);
  JNI_CATCH(env)
}

JNIEXPORT void JNICALL Java_ai_deepchat_rag_faiss_NativeFaiss_train(
    JNIEnv* env, jclass, jlong handle, jfloatArray vectors, jint n) {
  JNI_TRY
  std::vector<float> xs = to_floats(env, vectors);
  deepchat::train(index_of(handle), n, xs.data());
  JNI_CATCH(env)
}

JNIEXPORT void JNICALL Java_ai_deepchat_rag_faiss_NativeFaiss_add(
    JNIEnv* env, jclass, jlong handle, jfloatArray vectors, jlongArray ids) {
  JNI_TRY
  std::vector<float> xs = to_floats(env, vectors);
  std::vector<deepchat::idx_t> xids = to_ids(env, ids);
  deepchat::add_with_ids(index_of(handle), static_cast<deepchat::idx_t>(xids.size()), xs.data(),
                         xids.data());
  JNI_CATCH(env)
}

JNIEXPORT jlong JNICALL Java_ai_deepchat_rag_faiss_NativeFaiss_remove(
    JNIEnv* env, jclass, jlong handle, jlongArray ids) {
  JNI_TRY
  std::vector<deepchat::idx_t> xids = to_ids(env, ids);
  return static_cast<jlong>(deepchat::remove_ids(index_of(handle), xids.data(), xids.size()));
  JNI_CATCH(env)
  return 0;
}

JNIEXPORT void JNICALL Java_ai_deepchat_rag_faiss_NativeFaiss_search(
    JNIEnv* env, jclass, jlong handle, jfloatArray queries, jint n, jint k, jlongArray filter,
    jfloatArray distances, jlongArray labels) {
  JNI_TRY
  std::vector<float> xs = to_floats(env, queries);
  std::vector<deepchat::idx_t> allowed;
  if (filter != nullptr) {
    allowed = to_ids(env, filter);
  }
  std::vector<float> d(static_cast<size_t>(n) * k);
  std::vector<deepchat::idx_t> l(static_cast<size_t>(n) * k);
  deepchat::search(index_of(handle), n, xs.data(), k, filter != nullptr ? allowed.data() : nullptr,
                   allowed.size(), d.data(), l.data());
  env->SetFloatArrayRegion(distances, 0, static_cast<jsize>(d.size()), d.data());
  env->SetLongArrayRegion(labels, 0, static_cast<jsize>(l.size()),
                          reinterpret_cast<const jlong*>(l.data()));
  JNI_CATCH(env)
}

JNIEXPORT jlong JNICALL Java_ai_deepchat_rag_faiss_NativeFaiss_ntotal(JNIEnv* env, jclass, jlong handle) {
  JNI_TRY
  return static_cast<jlong>(index_of(handle)->ntotal);
  JNI_CATCH(env)
  return 0;
}

JNIEXPORT jint JNICALL Java_ai_deepchat_rag_faiss_NativeFaiss_dimension(JNIEnv* env, jclass, jlong handle) {
  JNI_TRY
  return static_cast<jint>(index_of(handle)->d);
  JNI_CATCH(env)
  return 0;
}

JNIEXPORT jboolean JNICALL Java_ai_deepchat_rag_faiss_NativeFaiss_isTrained(
    JNIEnv* env, jclass, jlong handle) {
  JNI_TRY
  return index_of(handle)->is_trained ? JNI_TRUE : JNI_FALSE;
  JNI_CATCH(env)
  return JNI_FALSE;
}

JNIEXPORT jint JNICALL Java_ai_deepchat_rag_faiss_NativeFaiss_metric(JNIEnv* env, jclass, jlong handle) {
  JNI_TRY
  return static_cast<jint>(deepchat::metric_of(index_of(handle)));
  JNI_CATCH(env)
  return 0;
}

JNIEXPORT void JNICALL Java_ai_deepchat_rag_faiss_NativeFaiss_setParameter(
    JNIEnv* env, jclass, jlong handle, jstring name, jdouble value) {
  JNI_TRY
  deepchat::set_parameter(index_of(handle), to_string(env, name), value);
  JNI_CATCH(env)
}
