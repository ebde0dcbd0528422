package ai.deepchat.tokenizer;

import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

/**
 * One native tokenizer per distinct {@code tokenizer.json} per JVM. A one-JVM node's pipeline (token
 * counts) and engine worker both need the DeepSeek-V3 tokenizer (129k tokens, 7.8 MB of JSON): building
 * it costs seconds of start and about 100 MB each time, so both take a lease on one instance.
 *
 * <p>Keyed by the file's SHA-256, not its path: without MODEL_DIR the pipeline reads the bundled copy in
 * the data directory and the worker the test model's copy, two paths with the same bytes; and a file
 * replaced in place loads afresh. Each {@link #acquire} returns its own handle with its own folder's
 * {@code tokenizer_config.json}; closing it releases the lease, the last close frees the native
 * tokenizer. Blocking (reads, hashes and parses files): call from worker threads.
 */
public final class TokenizerRegistry {

  private static final Map<String, Entry> ENTRIES = new HashMap<>();

  private TokenizerRegistry() {
  }

  /** What {@link DeepSeekTokenizer#load(Path)} gives, sharing the native tokenizer with other holders. */
  public static DeepSeekTokenizer acquire(Path modelDir) {
    return acquire(modelDir.resolve(DeepSeekTokenizer.FILE_NAME), DeepSeekTokenizer.folderConfig(modelDir));
  }

  /** What {@link DeepSeekTokenizer#load(Path, Optional)} gives, sharing the native tokenizer. */
  public static DeepSeekTokenizer acquire(Path tokenizerJson, Optional<TokenizerConfig> config) {
    byte[] json = DeepSeekTokenizer.read(tokenizerJson);
    String key = sha256(json);
    synchronized (ENTRIES) {
      Entry entry = ENTRIES.get(key);
      if (entry == null) {
        // built under the lock: a second holder starting meanwhile waits for this one, not a second build
        entry = new Entry(key);
        entry.shared = DeepSeekTokenizer.fromJson(json, Optional.empty(), tokenizerJson, null);
        ENTRIES.put(key, entry);
      }
      entry.holders++;
      return entry.shared.lease(config, tokenizerJson, entry::release);
    }
  }

  /** Distinct native tokenizers built in this JVM and not yet freed (diagnostics, tests). */
  public static int live() {
    synchronized (ENTRIES) {
      return ENTRIES.size();
    }
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  private static final class Entry {
    final String key;
    DeepSeekTokenizer shared;
    int holders;

    Entry(String key) {
      this.key = key;
    }

    void release() {
      synchronized (ENTRIES) {
        if (--holders > 0) {
          return;
        }
        ENTRIES.remove(key);
      }
      shared.close();
    }
  }
}
