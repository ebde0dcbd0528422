// JNI plumbing shared by every binding of the project (gpu-worker's engine, rag's FAISS index): the
// Java exception class cached at JNI_OnLoad, the guard that turns any C++ exception into that Java
// exception without overwriting one already pending, and null-safe, length-checked array copies.
// Header-only: each binding compiles it into its own library with hidden visibility, so two
// libraries loaded in one JVM never bind to each other's copy.
#pragma once
#include <jni.h>

#include <exception>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace deepchat::jni {

constexpr jint kVersion = JNI_VERSION_1_8;

// Thrown when a JNI call left a Java exception pending (OutOfMemoryError, ...): that one surfaces.
struct JavaPending {};

// A bad argument caught at the boundary (null, wrong length), before any native code reads it.
class BadArgument : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// A Java exception class and its constructor, looked up once in JNI_OnLoad (held as a global ref).
class ThrowableClass {
 public:
  bool init(JNIEnv* env, const char* name, const char* constructor_signature) {
    jclass local = env->FindClass(name);
    if (local == nullptr) return false;
    class_ = static_cast<jclass>(env->NewGlobalRef(local));
    env->DeleteLocalRef(local);
    constructor_ = class_ == nullptr ? nullptr : env->GetMethodID(class_, "<init>", constructor_signature);
    return constructor_ != nullptr;
  }

  void release(JNIEnv* env) {
    if (class_ != nullptr) env->DeleteGlobalRef(class_);
    class_ = nullptr;
  }

  // Throws new Class(leading..., message) unless an exception is already pending.
  template <typename... Leading>
  void raise(JNIEnv* env, const std::string& message, Leading... leading) const {
    if (env->ExceptionCheck()) return;
    jstring text = env->NewStringUTF(message.c_str());
    if (text == nullptr) return;  // OutOfMemoryError is pending
    jobject ex = env->NewObject(class_, constructor_, leading..., text);
    if (ex != nullptr) env->Throw(static_cast<jthrowable>(ex));
  }

 private:
  jclass class_ = nullptr;
  jmethodID constructor_ = nullptr;
};

// The body of JNI_OnLoad: caches `cls`, or fails the load (UnsatisfiedLinkError) when it is missing.
inline jint on_load(JavaVM* vm, ThrowableClass& cls, const char* name, const char* constructor_signature) {
  JNIEnv* env = nullptr;
  if (vm->GetEnv(reinterpret_cast<void**>(&env), kVersion) != JNI_OK) return JNI_ERR;
  return cls.init(env, name, constructor_signature) ? kVersion : JNI_ERR;
}

inline void on_unload(JavaVM* vm, ThrowableClass& cls) {
  JNIEnv* env = nullptr;
  if (vm->GetEnv(reinterpret_cast<void**>(&env), kVersion) == JNI_OK) cls.release(env);
}

// Runs fn(). On a C++ exception calls throw_java(env, cause) (cause: the std::exception, or null
// for anything else) unless a Java exception is already pending, and returns a zero value.
template <typename Throw, typename F>
auto guarded(JNIEnv* env, Throw&& throw_java, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const JavaPending&) {
    // The pending Java exception is the one to surface.
  } catch (const std::exception& e) {
    if (!env->ExceptionCheck()) throw_java(env, &e);
  } catch (...) {
    if (!env->ExceptionCheck()) throw_java(env, static_cast<const std::exception*>(nullptr));
  }
  if constexpr (!std::is_void_v<decltype(fn())>) return {};
}

// The JNI array functions of one element type.
template <typename T>
struct ArrayOps;
#define DEEPCHAT_JNI_ARRAY_OPS(T, Name)                                 \
  template <>                                                           \
  struct ArrayOps<T> {                                                  \
    using Array = T##Array;                                             \
    static constexpr auto make = &JNIEnv::New##Name##Array;             \
    static constexpr auto get = &JNIEnv::Get##Name##ArrayRegion;        \
    static constexpr auto set = &JNIEnv::Set##Name##ArrayRegion;        \
  };
DEEPCHAT_JNI_ARRAY_OPS(jint, Int)
DEEPCHAT_JNI_ARRAY_OPS(jlong, Long)
DEEPCHAT_JNI_ARRAY_OPS(jfloat, Float)
#undef DEEPCHAT_JNI_ARRAY_OPS

inline std::string to_string(JNIEnv* env, jstring s) {
  if (s == nullptr) throw BadArgument("null string argument");
  const char* chars = env->GetStringUTFChars(s, nullptr);
  if (chars == nullptr) throw JavaPending{};
  std::string out(chars);
  env->ReleaseStringUTFChars(s, chars);
  return out;
}

// A copy of a Java array; null is a BadArgument.
template <typename T>
std::vector<T> to_vector(JNIEnv* env, typename ArrayOps<T>::Array a) {
  if (a == nullptr) throw BadArgument("null array argument");
  std::vector<T> out(static_cast<size_t>(env->GetArrayLength(a)));
  (env->*ArrayOps<T>::get)(a, 0, static_cast<jsize>(out.size()), out.data());
  if (env->ExceptionCheck()) throw JavaPending{};
  return out;
}

// A new Java array holding v.
template <typename T>
typename ArrayOps<T>::Array to_java(JNIEnv* env, const std::vector<T>& v) {
  auto a = (env->*ArrayOps<T>::make)(static_cast<jsize>(v.size()));
  if (a == nullptr) throw JavaPending{};
  (env->*ArrayOps<T>::set)(a, 0, static_cast<jsize>(v.size()), v.data());
  return a;
}

// A caller's array that must hold at least `size` values; null or shorter is a BadArgument.
inline void check_length(JNIEnv* env, jarray a, size_t size, const char* what) {
  if (a == nullptr) throw BadArgument(std::string("null ") + what + " array");
  if (static_cast<size_t>(env->GetArrayLength(a)) < size) {
    throw BadArgument(std::string(what) + " array holds fewer than " + std::to_string(size) + " values");
  }
}

// Copies v to the start of a caller's array (checked as check_length does).
template <typename T>
void copy_to(JNIEnv* env, typename ArrayOps<T>::Array dst, const std::vector<T>& v, const char* what) {
  check_length(env, dst, v.size(), what);
  (env->*ArrayOps<T>::set)(dst, 0, static_cast<jsize>(v.size()), v.data());
  if (env->ExceptionCheck()) throw JavaPending{};
}

}  // namespace deepchat::jni
