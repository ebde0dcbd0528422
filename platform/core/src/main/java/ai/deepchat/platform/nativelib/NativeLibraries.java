package ai.deepchat.platform.nativelib;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The one loader of the project's JNI libraries: first {@code java.library.path} (an operator's
 * install, development, surefire), then the jar's {@code META-INF/native/<platform>/} entry of the
 * binding's class loader, extracted to a temporary file. A library loads once per JVM; a failed
 * attempt is retried on the next call.
 */
public final class NativeLibraries {

  private static final Set<String> LOADED = new HashSet<>();

  private NativeLibraries() {
  }

  /**
   * Loads library {@code name} (e.g. "deepchat_faiss" for libdeepchat_faiss.so).
   *
   * @param binding a class of the jar that packages the library
   * @throws UnsatisfiedLinkError when the library is in neither place, or does not load
   * @throws UncheckedIOException when it cannot be extracted from the jar
   */
  public static synchronized void load(String name, Class<?> binding) {
    if (LOADED.contains(name)) {
      return;
    }
    try {
      System.loadLibrary(name);
    } catch (UnsatisfiedLinkError notOnPath) {
      System.load(extract(name, binding, notOnPath).toString());
    }
    LOADED.add(name);
  }

  /** The folder name under {@code META-INF/native/}: "linux-x86_64", "linux-aarch64", "osx-aarch64"... */
  public static String platform(String osName, String osArch) {
    String os = osName.toLowerCase(Locale.ROOT);
    if (os.startsWith("linux")) {
      os = "linux";
    } else if (os.startsWith("mac") || os.startsWith("darwin")) {
      os = "osx";
    } else if (os.startsWith("windows")) {
      os = "windows";
    } else {
      os = os.replaceAll("[^a-z0-9]", "");
    }
    String arch = switch (osArch.toLowerCase(Locale.ROOT)) {
      case "amd64", "x86_64", "x86-64" -> "x86_64";
      case "aarch64", "arm64" -> "aarch64";
      default -> osArch.toLowerCase(Locale.ROOT);
    };
    return os + "-" + arch;
  }

  /** The resource path of a library in the jar, for this JVM's platform. */
  public static String resource(String name) {
    return "/META-INF/native/" + platform(System.getProperty("os.name", ""), System.getProperty("os.arch", ""))
        + "/" + System.mapLibraryName(name);
  }

  private static Path extract(String name, Class<?> binding, UnsatisfiedLinkError notOnPath) {
    String resource = resource(name);
    try (InputStream in = binding.getResourceAsStream(resource)) {
      if (in == null) {
        throw new UnsatisfiedLinkError("native library " + name + " not found on java.library.path ("
            + notOnPath.getMessage() + ") nor in the jar at " + resource + " (built with -Dnative.skip?)");
      }
      Path file = Files.createTempFile(name, "-" + System.mapLibraryName(name));
      file.toFile().deleteOnExit();
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract " + resource, e);
    }
  }
}
