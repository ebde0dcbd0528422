package ai.deepchat.rag.index;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import java.util.zip.CRC32;

/**
 * Where a knowledge base's index lives, and its checksum: FAISS's reader trusts the bytes it is given,
 * so a damaged file is caught by the CRC before native code ever parses it.
 */
final class IndexFiles {

  private final Path root;

  IndexFiles(Path dataDir) {
    this.root = dataDir.resolve("faiss");
  }

  /** One file per model: a re-embedding builds the new model's index beside the one still serving. */
  Path index(UUID tenantId, UUID knowledgeBaseId, String model) {
    return root.resolve(tenantId.toString()).resolve(knowledgeBaseId + "." + model + ".index");
  }

  /** Every index of the knowledge base, of any model (and the single file of before re-embedding). */
  List<Path> all(UUID tenantId, UUID knowledgeBaseId) throws IOException {
    Path dir = root.resolve(tenantId.toString());
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    String prefix = knowledgeBaseId + ".";
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.getFileName().toString().startsWith(prefix)
          && f.getFileName().toString().endsWith(".index")).toList();
    }
  }

  private static Path checksum(Path index) {
    return index.resolveSibling(index.getFileName() + ".crc");
  }

  /** True when the file and its checksum exist and agree. */
  static boolean intact(Path index) throws IOException {
    Path sum = checksum(index);
    if (!Files.isRegularFile(index) || !Files.isRegularFile(sum)) {
      return false;
    }
    String expected = Files.readString(sum, StandardCharsets.US_ASCII).strip();
    return expected.equals(crc(index));
  }

  /** Atomically replaces the index with the file {@code written}, then records its checksum. */
  static void commit(Path written, Path index) throws IOException {
    String crc = crc(written);
    Files.move(written, index, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    Path tmp = checksum(index).resolveSibling(index.getFileName() + ".crc.tmp");
    Files.writeString(tmp, crc, StandardCharsets.US_ASCII);
    Files.move(tmp, checksum(index), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  static void delete(Path index) throws IOException {
    Files.deleteIfExists(index);
    Files.deleteIfExists(checksum(index));
  }

  private static String crc(Path file) throws IOException {
    CRC32 crc = new CRC32();
    byte[] buffer = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buffer)) > 0; ) {
        crc.update(buffer, 0, n);
      }
    }
    return Long.toHexString(crc.getValue()) + ":" + Files.size(file);
  }
}
