#include "jni_util.h"

namespace dsejni {

namespace {
jclass g_exception_class = nullptr;   // global ref to EngineException
jmethodID g_exception_ctor = nullptr; // EngineException(int, String)
}  // namespace

void throw_engine_exception(JNIEnv* env, dse::ErrorKind kind, const std::string& msg) {
  if (env->ExceptionCheck()) return;  // never overwrite a pending Java exception
  jstring jmsg = env->NewStringUTF(msg.c_str());
  if (!jmsg) return;
  jobject ex = env->NewObject(g_exception_class, g_exception_ctor, static_cast<jint>(kind), jmsg);
  if (ex) env->Throw(static_cast<jthrowable>(ex));
}

std::string to_string(JNIEnv* env, jstring s) {
  if (!s) throw dse::EngineError(dse::ErrorKind::kBadRequest, "null string argument");
  const char* c = env->GetStringUTFChars(s, nullptr);
  if (!c) throw JavaPending{};
  std::string out(c);
  env->ReleaseStringUTFChars(s, c);
  return out;
}

std::vector<int> to_ints(JNIEnv* env, jintArray a) {
  if (!a) return {};
  jsize n = env->GetArrayLength(a);
  std::vector<int> v(static_cast<size_t>(n));
  env->GetIntArrayRegion(a, 0, n, reinterpret_cast<jint*>(v.data()));
  if (env->ExceptionCheck()) throw JavaPending{};
  return v;
}

jintArray to_jints(JNIEnv* env, const std::vector<int>& v) {
  jintArray a = env->NewIntArray(static_cast<jsize>(v.size()));
  if (!a) throw JavaPending{};
  env->SetIntArrayRegion(a, 0, static_cast<jsize>(v.size()), reinterpret_cast<const jint*>(v.data()));
  return a;
}

jlongArray to_jlongs(JNIEnv* env, const std::vector<int64_t>& v) {
  jlongArray a = env->NewLongArray(static_cast<jsize>(v.size()));
  if (!a) throw JavaPending{};
  static_assert(sizeof(jlong) == sizeof(int64_t), "jlong is 64 bits");
  env->SetLongArrayRegion(a, 0, static_cast<jsize>(v.size()), reinterpret_cast<const jlong*>(v.data()));
  return a;
}

jfloatArray to_jfloats(JNIEnv* env, const std::vector<float>& v) {
  jfloatArray a = env->NewFloatArray(static_cast<jsize>(v.size()));
  if (!a) throw JavaPending{};
  env->SetFloatArrayRegion(a, 0, static_cast<jsize>(v.size()), v.data());
  return a;
}

}  // namespace dsejni

extern "C" JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM* vm, void*) {
  JNIEnv* env = nullptr;
  if (vm->GetEnv(reinterpret_cast<void**>(&env), JNI_VERSION_1_8) != JNI_OK) return JNI_ERR;
  jclass local = env->FindClass("ai/deepchat/gpu/engine/EngineException");
  if (!local) return JNI_ERR;
  dsejni::g_exception_class = static_cast<jclass>(env->NewGlobalRef(local));
  env->DeleteLocalRef(local);
  dsejni::g_exception_ctor = env->GetMethodID(dsejni::g_exception_class, "<init>", "(ILjava/lang/String;)V");
  if (!dsejni::g_exception_ctor) return JNI_ERR;
  return JNI_VERSION_1_8;
}

extern "C" JNIEXPORT void JNICALL JNI_OnUnload(JavaVM* vm, void*) {
  JNIEnv* env = nullptr;
  if (vm->GetEnv(reinterpret_cast<void**>(&env), JNI_VERSION_1_8) == JNI_OK && dsejni::g_exception_class)
    env->DeleteGlobalRef(dsejni::g_exception_class);
}
