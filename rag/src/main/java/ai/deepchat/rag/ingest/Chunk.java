package ai.deepchat.rag.ingest;

/**
 * A piece of a document small enough to embed.
 *
 * @param sectionPath headings above it, like "Install > Linux"; empty before the first heading
 */
public record Chunk(int ordinal, String sectionPath, String text, int tokenCount) {

  /** What the embedding model sees: the section path gives a short chunk its topic. */
  public String embeddingText() {
    return sectionPath.isEmpty() ? text : sectionPath + "\n" + text;
  }
}
