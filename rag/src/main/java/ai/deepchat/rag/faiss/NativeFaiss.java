package ai.deepchat.rag.faiss;

import ai.deepchat.platform.nativelib.NativeLibraries;

/**
 * The JNI surface: static methods over a native handle (a {@code faiss::Index*} wrapped in an
 * IDMap2). Only {@link FaissIndex} calls these, and it guarantees the handle is live. The C++ side
 * (native/src/NativeFaiss.cpp) is compiled against the header {@code javac -h} generates from this
 * class; it checks every argument and turns any C++ error into a {@link FaissException}.
 */
final class NativeFaiss {

  static final String LIBRARY = "deepchat_faiss";

  static {
    NativeLibraries.load(LIBRARY, NativeFaiss.class);
  }

  private NativeFaiss() {
  }

  static native long create(int dimension, String factory, int metric);

  static native long read(String path);

  static native void write(long handle, String path);

  static native void free(long handle);

  static native void train(long handle, float[] vectors, int n);

  static native void add(long handle, float[] vectors, long[] ids);

  static native long remove(long handle, long[] ids);

  static native void search(long handle, float[] queries, int n, int k, long[] filter,
                            float[] distances, long[] labels);

  static native long ntotal(long handle);

  static native int dimension(long handle);

  static native boolean isTrained(long handle);

  static native int metric(long handle);

  static native void setParameter(long handle, String name, double value);
}
