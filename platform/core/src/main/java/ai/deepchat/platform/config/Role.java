package ai.deepchat.platform.config;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** What a node runs. A single JVM runs all of them by default. */
public enum Role {
  /** HTTP edge: OpenAI-compatible API, widget endpoints, admin console, health and metrics. */
  GATEWAY,
  /** Conversation state, intent routing, moderation, rate limits, model dispatch, audit. */
  PIPELINE,
  /** Knowledge-base ingestion and retrieval. */
  RAG,
  /** Engine worker verticles that own a CPU or GPU backend and generate tokens. */
  WORKER;

  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses "gateway,worker" or "all"; unknown names fail with the offending value. */
  public static Set<Role> parseList(String key, String value) {
    if (value == null || value.isBlank() || value.trim().equalsIgnoreCase("all")) {
      return EnumSet.allOf(Role.class);
    }
    EnumSet<Role> roles = EnumSet.noneOf(Role.class);
    for (String part : value.split(",")) {
      String name = part.trim().toLowerCase(Locale.ROOT);
      if (name.isEmpty()) {
        continue;
      }
      Role match = null;
      for (Role r : values()) {
        if (r.key().equals(name)) {
          match = r;
        }
      }
      if (match == null) {
        throw new ConfigException(key, "unknown role '" + part.trim()
            + "' (known: gateway, pipeline, rag, worker, all)");
      }
      roles.add(match);
    }
    if (roles.isEmpty()) {
      throw new ConfigException(key, "no role given");
    }
    return roles;
  }
}
