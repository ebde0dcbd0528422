package ai.deepchat.rag.ingest;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The uploaded original of every document, under {@code <dataDir>/documents/<tenant>/<kb>/<document>},
 * so a failed document can be retried and any document re-synced without the user uploading it again.
 * Keyed by tenant like the FAISS indexes: files sit outside row-level security. Blocking: call on a worker.
 */
final class DocumentFiles {

  private final Path root;

  DocumentFiles(Path dataDir) {
    this.root = dataDir.resolve("documents");
  }

  private Path knowledgeBase(UUID tenantId, UUID knowledgeBaseId) {
    return root.resolve(tenantId.toString()).resolve(knowledgeBaseId.toString());
  }

  private Path file(UUID tenantId, UUID knowledgeBaseId, UUID documentId) {
    return knowledgeBase(tenantId, knowledgeBaseId).resolve(documentId.toString());
  }

  /** Replaces the stored original atomically, so a reader never sees half of it. */
  void write(UUID tenantId, UUID knowledgeBaseId, UUID documentId, byte[] content) throws IOException {
    Path file = file(tenantId, knowledgeBaseId, documentId);
    Files.createDirectories(file.getParent());
    Path tmp = Files.createTempFile(file.getParent(), documentId.toString(), ".tmp");
    try {
      Files.write(tmp, content);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** The stored original, or null for a document uploaded before originals were kept. */
  byte[] read(UUID tenantId, UUID knowledgeBaseId, UUID documentId) throws IOException {
    try {
      return Files.readAllBytes(file(tenantId, knowledgeBaseId, documentId));
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  void delete(UUID tenantId, UUID knowledgeBaseId, UUID documentId) throws IOException {
    Files.deleteIfExists(file(tenantId, knowledgeBaseId, documentId));
  }

  /** Removes the knowledge base's folder when no original is left in it. */
  void deleteIfEmpty(UUID tenantId, UUID knowledgeBaseId) throws IOException {
    try {
      Files.deleteIfExists(knowledgeBase(tenantId, knowledgeBaseId));
    } catch (DirectoryNotEmptyException stillUsed) {
      // other documents of a knowledge base that still exists
    }
  }

  void deleteAll(UUID tenantId, UUID knowledgeBaseId) throws IOException {
    Path dir = knowledgeBase(tenantId, knowledgeBaseId);
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
