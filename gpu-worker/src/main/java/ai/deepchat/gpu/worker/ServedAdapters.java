package ai.deepchat.gpu.worker;

import ai.deepchat.gpu.engine.Engine;
import ai.deepchat.gpu.engine.EngineException;
import ai.deepchat.platform.engine.EngineMessages;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The LoRA adapters a worker serves over its base model: every folder under {@code <model>/adapters/}
 * that holds an {@code adapter_config.json} (Hugging Face PEFT format), served under the model key
 * {@code <base>+<folder>}. {@link #rescan} follows the folder: a new or changed adapter is loaded, a
 * removed one unloaded (sequences using it finish with it). A bad adapter is logged and skipped until
 * its files change (a copy still in progress loads once complete); the base model and the other
 * adapters keep serving. Rescans block: run them on a worker thread, one at a time.
 */
public final class ServedAdapters {
  private static final Logger LOG = LoggerFactory.getLogger(ServedAdapters.class);
  /** The folder under the model folder that holds the adapters. */
  public static final String FOLDER = "adapters";
  // the rule model keys follow (ENGINE_MODEL_KEY, model versions), so "<base>+<name>" is a valid key
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._\\-]{0,99}");
  private static final String[] FILES = {"adapter_config.json", "adapter_model.safetensors"};

  /** What a rescan changed: adapters now served and no longer served, engine adapter ids by model key. */
  public record Changes(Map<String, Integer> added, Map<String, Integer> removed) {
    public boolean isEmpty() {
      return added.isEmpty() && removed.isEmpty();
    }
  }

  private record Loaded(int id, FileTime stamp) {
  }

  private final String baseKey;
  private final Path root;
  private final Engine engine;
  private final Map<String, Loaded> served = new HashMap<>();   // by folder name
  private final Map<String, FileTime> refused = new HashMap<>(); // by folder name: files as they were refused
  private final Set<String> badNames = new HashSet<>();            // warned once

  public ServedAdapters(String baseKey, Path modelDir, Engine engine) {
    this.baseKey = baseKey;
    this.root = modelDir.resolve(FOLDER);
    this.engine = engine;
  }

  /** Loads what appeared or changed under adapters/ since the last call, unloads what went. */
  public Changes rescan() {
    Map<String, FileTime> present = list();
    Map<String, Integer> added = new TreeMap<>();
    Map<String, Integer> removed = new TreeMap<>();
    served.entrySet().removeIf(e -> {
      FileTime now = present.get(e.getKey());
      if (now != null && now.equals(e.getValue().stamp())) {
        return false;
      }
      engine.unloadAdapter(e.getValue().id());
      removed.put(key(e.getKey()), e.getValue().id());
      LOG.info("LoRA adapter '{}' {}: no longer served", e.getKey(), now == null ? "removed" : "changed");
      return true;
    });
    refused.keySet().retainAll(present.keySet());
    present.forEach((name, stamp) -> {
      if (served.containsKey(name) || stamp.equals(refused.get(name))) {
        return;
      }
      try {
        int id = engine.loadAdapter(root.resolve(name));
        served.put(name, new Loaded(id, stamp));
        refused.remove(name);
        added.put(key(name), id);
        LOG.info("serving LoRA adapter '{}' over '{}' as model key '{}'", name, baseKey, key(name));
      } catch (EngineException e) {
        refused.put(name, stamp);
        LOG.error("LoRA adapter '{}' not served: {}", root.resolve(name), e.getMessage());
      }
    });
    return new Changes(added, removed);
  }

  private String key(String name) {
    return EngineMessages.adapterModelKey(baseKey, name);
  }

  /** Adapter folders by name, each with the newest modification time of its files. */
  private Map<String, FileTime> list() {
    Map<String, FileTime> out = new TreeMap<>();
    if (!Files.isDirectory(root)) {
      return out;
    }
    try (Stream<Path> folders = Files.list(root)) {
      for (Path dir : folders.toList()) {
        String name = dir.getFileName().toString();
        if (!Files.isRegularFile(dir.resolve(FILES[0]))) {
          continue;
        }
        if (!NAME.matcher(name).matches()) {
          if (badNames.add(name)) {
            LOG.warn("LoRA adapter folder '{}' skipped: a name may use only letters, digits, '.', '_', '-'", dir);
          }
          continue;
        }
        out.put(name, stamp(dir));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the adapters in " + root, e);
    }
    return out;
  }

  private static FileTime stamp(Path dir) throws IOException {
    FileTime newest = FileTime.fromMillis(0);
    for (String f : FILES) {
      try {
        FileTime t = Files.getLastModifiedTime(dir.resolve(f));
        newest = t.compareTo(newest) > 0 ? t : newest;
      } catch (NoSuchFileException e) {
        // not copied yet: the load refuses it, and a later copy changes the stamp
      }
    }
    return newest;
  }
}
