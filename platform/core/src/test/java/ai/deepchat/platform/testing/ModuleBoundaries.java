package ai.deepchat.platform.testing;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Which of a module's compiled main classes name our types, read from what javac wrote: class names,
 * descriptors and signatures in each class file's constant pool. So an import, a fully qualified
 * name, a field or a lambda's type all count; a compile-time constant copied from another module does
 * not, which is why each module's pom also keeps the modules it must not use out of compile scope.
 */
public final class ModuleBoundaries {

  private static final Pattern NAME = Pattern.compile("ai/deepchat/[A-Za-z0-9_/$]+");

  private ModuleBoundaries() {
  }

  /**
   * Every internal name ({@code ai/deepchat/...}) each class file refers to, by file, over the classes
   * folder of {@code anyMainClass}.
   */
  public static Map<String, Set<String>> references(Class<?> anyMainClass) throws IOException, URISyntaxException {
    Path root = Path.of(anyMainClass.getProtectionDomain().getCodeSource().getLocation().toURI());
    if (!Files.isDirectory(root)) {
      throw new IllegalStateException(root + " is not a classes folder");
    }
    Map<String, Set<String>> refs = new TreeMap<>();
    try (Stream<Path> files = Files.walk(root)) {
      for (Path file : files.filter(p -> p.toString().endsWith(".class")).toList()) {
        // class names are ASCII in the constant pool's modified UTF-8: a byte-wise search finds them all
        Matcher m = NAME.matcher(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1));
        Set<String> names = new TreeSet<>();
        while (m.find()) {
          names.add(m.group());
        }
        refs.put(root.relativize(file).toString(), names);
      }
    }
    return refs;
  }

  /**
   * The references under any of {@code packages} (e.g. {@code "ai/deepchat/rag/"}), by class file: empty
   * when the boundary holds.
   */
  public static Map<String, Set<String>> violations(Map<String, Set<String>> references, List<String> packages) {
    Map<String, Set<String>> found = new TreeMap<>();
    references.forEach((file, names) -> names.stream()
        .filter(n -> packages.stream().anyMatch(n::startsWith))
        .forEach(n -> found.computeIfAbsent(file, f -> new TreeSet<>()).add(n)));
    return found;
  }
}
