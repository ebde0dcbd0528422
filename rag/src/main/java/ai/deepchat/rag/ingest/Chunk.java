package ai.deepchat.rag.ingest;

/**
 * A piece of a document small enough to embed.
 *
 * @param sectionPath headings above it, like "Install > Linux"; empty before the first heading
 * @param location    where it is in a paged source, like "p. 3" or "p. 3–4" or "slide 2"; null when the
 *                    format has no pages
 */
public record Chunk(int ordinal, String sectionPath, String text, int tokenCount, String location) {

  public Chunk(int ordinal, String sectionPath, String text, int tokenCount) {
    this(ordinal, sectionPath, text, tokenCount, null);
  }

  /** What the embedding model sees: the section path gives a short chunk its topic. */
  public String embeddingText() {
    return embeddingText(sectionPath, text);
  }

  /** The same for a stored chunk (a re-embedding reads them back). */
  public static String embeddingText(String sectionPath, String text) {
    return sectionPath.isEmpty() ? text : sectionPath + "\n" + text;
  }
}
