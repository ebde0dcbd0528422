package ai.deepchat.gpu.engine;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Loads libdsengine_jni: first from {@code java.library.path} (development, surefire), then from
 * the jar's {@code META-INF/native/linux-x86_64/} extracted to a temporary file (deployment).
 */
final class NativeLibrary {
  static final String NAME = "dsengine_jni";
  private static volatile boolean loaded;

  private NativeLibrary() {}

  static synchronized void load() {
    if (loaded) return;
    UnsatisfiedLinkError first;
    try {
      System.loadLibrary(NAME);
      loaded = true;
      return;
    } catch (UnsatisfiedLinkError e) {
      first = e;
    }
    String resource = "/META-INF/native/" + platform() + "/lib" + NAME + ".so";
    try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new EngineException(EngineException.Kind.UNSUPPORTED,
            "native engine library not found on java.library.path (" + first.getMessage() + ") nor in the jar at "
                + resource);
      }
      Path tmp = Files.createTempFile("lib" + NAME, ".so");
      tmp.toFile().deleteOnExit();
      Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
      System.load(tmp.toAbsolutePath().toString());
      loaded = true;
    } catch (IOException e) {
      throw new EngineException(EngineException.Kind.INTERNAL, "cannot extract " + resource, e);
    }
  }

  static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase().startsWith("linux") ? "linux" : "unknown";
    String arch = System.getProperty("os.arch", "");
    if (arch.equals("amd64") || arch.equals("x86_64")) arch = "x86-64";
    return os + "-" + arch.replace("x86-64", "x86_64");
  }
}
