package ai.deepchat.bench;

import java.util.HashMap;
import java.util.Map;

/** The {@code --name value} options of a bench main, over its defaults; an unknown name exits with 2. */
final class BenchOptions {

  private BenchOptions() {
  }

  static Map<String, String> parse(String[] args, Map<String, String> defaults) {
    Map<String, String> opts = new HashMap<>(defaults);
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--") || !opts.containsKey(args[i].substring(2))) {
        System.err.println("unknown option " + args[i] + "; options: " + opts.keySet());
        System.exit(2);
      }
      opts.put(args[i].substring(2), args[i + 1]);
    }
    return opts;
  }
}
