package ai.deepchat.rag.faiss;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Loads {@code libdeepchat_faiss.so}: from {@code java.library.path} when an operator installed it,
 * otherwise extracted from the jar ({@code META-INF/native/linux-x86_64/}) to a temporary file.
 */
final class NativeLoader {

  static final String LIBRARY = "deepchat_faiss";
  private static boolean loaded;

  private NativeLoader() {
  }

  static synchronized void load() {
    if (loaded) {
      return;
    }
    try {
      System.loadLibrary(LIBRARY);
    } catch (UnsatisfiedLinkError notOnPath) {
      System.load(extract().toString());
    }
    loaded = true;
  }

  private static Path extract() {
    String resource = "/META-INF/native/" + platform() + "/" + System.mapLibraryName(LIBRARY);
    try (InputStream in = NativeLoader.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new UnsatisfiedLinkError("no " + LIBRARY + " on java.library.path and no " + resource
            + " in the jar (built with -Dnative.skip?)");
      }
      Path file = Files.createTempFile("deepchat_faiss", ".so");
      file.toFile().deleteOnExit();
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract " + resource, e);
    }
  }

  private static String platform() {
    String os = System.getProperty("os.name").toLowerCase().startsWith("linux") ? "linux" : "other";
    String arch = System.getProperty("os.arch");
    return os + "-" + ("amd64".equals(arch) ? "x86_64" : arch);
  }
}
