package ai.deepchat.platform.nativelib;

import ai.deepchat.platform.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Libraries unpacked from the jar: once per content into the cache, reused, whole even when starts race. */
class NativeLibraryCacheTest {

  private static final String FILE = "libdeepchat_cache_test.so";

  private static byte[] bytes(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void aSecondStartReusesTheUnpackedFileInsteadOfWritingACopy(@TempDir Path cache) throws Exception {
    byte[] lib = bytes(64 * 1024, 1);
    Path first = NativeLibraries.unpack(FILE, lib, cache);
    assertThat(first).startsWith(cache).hasBinaryContent(lib);
    FileTime written = FileTime.fromMillis(1_000_000_000L);
    Files.setLastModifiedTime(first, written);

    Path second = NativeLibraries.unpack(FILE, lib, cache);
    assertThat(second).isEqualTo(first);
    assertThat(Files.getLastModifiedTime(second)).as("not written again").isEqualTo(written);
    assertThat(filesUnder(cache)).containsExactly(first);
  }

  @Test
  void anotherVersionGetsItsOwnFolderAndADamagedCopyIsReplaced(@TempDir Path cache) throws Exception {
    Path v1 = NativeLibraries.unpack(FILE, bytes(4096, 1), cache);
    Path v2 = NativeLibraries.unpack(FILE, bytes(4096, 2), cache);
    assertThat(v2.getParent()).isNotEqualTo(v1.getParent());
    assertThat(v1).hasBinaryContent(bytes(4096, 1));

    Files.write(v1, new byte[10]); // a truncated or tampered copy is not loaded
    assertThat(NativeLibraries.unpack(FILE, bytes(4096, 1), cache)).isEqualTo(v1).hasBinaryContent(bytes(4096, 1));
  }

  @Test
  void startsRacingEachOtherAllGetTheWholeFileAndLeaveNoPartialOnes(@TempDir Path cache) throws Exception {
    byte[] lib = bytes(4 * 1024 * 1024, 3);
    int starts = 8;
    ExecutorService pool = Executors.newFixedThreadPool(starts);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Path>> results = new ArrayList<>();
      for (int i = 0; i < starts; i++) {
        results.add(pool.submit(() -> {
          go.await();
          Path p = NativeLibraries.unpack(FILE, lib, cache);
          // what this start would now hand to System.load must be complete
          assertThat(p).hasBinaryContent(lib);
          return p;
        }));
      }
      go.countDown();
      Path expected = results.get(0).get();
      for (Future<Path> r : results) {
        assertThat(r.get()).isEqualTo(expected);
      }
      assertThat(filesUnder(cache)).containsExactly(expected);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void theCacheIsTheConfiguredFolderElseTheUsersCache() {
    assertThat(NativeLibraries.defaultCacheDirectory(Map.of("NATIVE_CACHE_DIR", "/srv/dc/native"), "/home/u"))
        .isEqualTo(Path.of("/srv/dc/native"));
    assertThat(NativeLibraries.defaultCacheDirectory(Map.of("XDG_CACHE_HOME", "/var/cache/u"), "/home/u"))
        .isEqualTo(Path.of("/var/cache/u/deepchat/native"));
    assertThat(NativeLibraries.defaultCacheDirectory(Map.of(), "/home/u"))
        .isEqualTo(Path.of("/home/u/.cache/deepchat/native"));
    // the typed configuration reads the same key, from a flag or CONFIG_FILE as well
    assertThat(ConfigLoader.load(Map.of(), new String[] {"--native-cache-dir=/srv/dc/native"}).engine().nativeCacheDir())
        .isEqualTo(Path.of("/srv/dc/native"));
  }

  private static List<Path> filesUnder(Path dir) throws Exception {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).toList();
    }
  }
}
