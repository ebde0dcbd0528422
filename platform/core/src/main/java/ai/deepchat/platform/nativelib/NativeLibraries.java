package ai.deepchat.platform.nativelib;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The one loader of the project's JNI libraries: first {@code java.library.path} (an operator's
 * install, development, surefire), then the jar's {@code META-INF/native/<platform>/} entry of the
 * binding's class loader, unpacked once per content hash into a cache directory
 * ({@code NATIVE_CACHE_DIR}) and reused by every later start. A library loads once per JVM; a failed
 * attempt is retried on the next call.
 */
public final class NativeLibraries {

  /** The configuration key (and environment variable) of the cache directory. */
  public static final String CACHE_DIR_KEY = "NATIVE_CACHE_DIR";

  private static final Set<String> LOADED = new HashSet<>();
  private static volatile Path cacheDirectory = defaultCacheDirectory(System.getenv(), System.getProperty("user.home", "."));

  private NativeLibraries() {
  }

  /**
   * Where unpacked libraries are kept when no {@code NATIVE_CACHE_DIR} is given: the user's cache
   * ({@code $XDG_CACHE_HOME}, else {@code ~/.cache}) under {@code deepchat/native}. A per-user folder,
   * so no other account can swap a library this process is about to load.
   */
  public static Path defaultCacheDirectory(Map<String, String> env, String userHome) {
    String configured = env.get(CACHE_DIR_KEY);
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured.trim()).toAbsolutePath().normalize();
    }
    String xdg = env.get("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg.trim()) : Path.of(userHome, ".cache");
    return base.resolve("deepchat").resolve("native").toAbsolutePath().normalize();
  }

  /** Sets the cache directory (the launcher's typed configuration); libraries loaded later unpack there. */
  public static void useCacheDirectory(Path directory) {
    cacheDirectory = directory.toAbsolutePath().normalize();
  }

  /**
   * Loads library {@code name} (e.g. "deepchat_faiss" for libdeepchat_faiss.so).
   *
   * @param binding a class of the jar that packages the library
   * @throws UnsatisfiedLinkError when the library is in neither place, or does not load
   * @throws UncheckedIOException when it cannot be unpacked from the jar
   */
  public static synchronized void load(String name, Class<?> binding) {
    if (LOADED.contains(name)) {
      return;
    }
    try {
      System.loadLibrary(name);
    } catch (UnsatisfiedLinkError notOnPath) {
      System.load(unpack(name, binding, cacheDirectory, notOnPath).toString());
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

  private static Path unpack(String name, Class<?> binding, Path cacheDir, UnsatisfiedLinkError notOnPath) {
    String resource = resource(name);
    try (InputStream in = binding.getResourceAsStream(resource)) {
      if (in == null) {
        throw new UnsatisfiedLinkError("native library " + name + " not found on java.library.path ("
            + notOnPath.getMessage() + ") nor in the jar at " + resource + " (built with -Dnative.skip?)");
      }
      return unpack(System.mapLibraryName(name), in.readAllBytes(), cacheDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + resource + " from the jar", e);
    }
  }

  /**
   * {@code content} as the file {@code cacheDir/<content hash>/<fileName>}: written only when missing or
   * not that content, through a temporary name and an atomic rename, so two processes starting at once
   * both end with the whole file and neither loads a half-written one.
   */
  static Path unpack(String fileName, byte[] content, Path cacheDir) {
    byte[] hash = sha256(content);
    Path dir = cacheDir.resolve(HexFormat.of().formatHex(hash, 0, 16));
    Path file = dir.resolve(fileName);
    try {
      if (Files.isRegularFile(file) && Arrays.equals(sha256(Files.readAllBytes(file)), hash)) {
        return file;
      }
      createPrivateDirectories(dir);
      Path partial = Files.createTempFile(dir, fileName, ".partial");
      try {
        Files.write(partial, content);
        move(partial, file);
      } finally {
        Files.deleteIfExists(partial);
      }
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot unpack " + fileName + " into " + dir + " (set " + CACHE_DIR_KEY
          + " to a writable directory)", e);
    }
  }

  private static void move(Path partial, Path file) throws IOException {
    try {
      Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      // same directory, so this is rare (some network file systems); a plain replace is the best left
      Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static void createPrivateDirectories(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    Files.createDirectories(dir.getParent());
    try {
      if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } else {
        Files.createDirectory(dir);
      }
    } catch (FileAlreadyExistsException anotherProcessWasFirst) {
      // fine: it made the same folder
    }
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
