// JNI plumbing shared by the entry points: cached exception class/constructor, the guard that
// turns every C++ exception into a Java EngineException, and array conversions.
#pragma once
#include <jni.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace dsejni {

// Marker thrown when a JNI call itself left a Java exception pending (e.g. OutOfMemoryError).
struct JavaPending {};

// Throws ai.deepchat.gpu.engine.EngineException(kind, msg) unless an exception is already pending.
void throw_engine_exception(JNIEnv* env, dse::ErrorKind kind, const std::string& msg);

// Runs fn(); on any C++ exception throws the Java exception and returns `fallback`.
template <typename R, typename F>
R guarded(JNIEnv* env, R fallback, F&& fn) {
  try {
    return fn();
  } catch (const JavaPending&) {
    // The Java exception already pending is the one to surface.
  } catch (const dse::EngineError& e) {
    throw_engine_exception(env, e.kind(), e.what());
  } catch (const std::bad_alloc&) {
    throw_engine_exception(env, dse::ErrorKind::kOutOfMemory, "native engine out of memory");
  } catch (const std::exception& e) {
    throw_engine_exception(env, dse::ErrorKind::kInternal, std::string("native engine error: ") + e.what());
  } catch (...) {
    throw_engine_exception(env, dse::ErrorKind::kInternal, "unknown native engine error");
  }
  return fallback;
}

std::string to_string(JNIEnv* env, jstring s);
std::vector<int> to_ints(JNIEnv* env, jintArray a);
jintArray to_jints(JNIEnv* env, const std::vector<int>& v);
jlongArray to_jlongs(JNIEnv* env, const std::vector<int64_t>& v);
jfloatArray to_jfloats(JNIEnv* env, const std::vector<float>& v);

}  // namespace dsejni
