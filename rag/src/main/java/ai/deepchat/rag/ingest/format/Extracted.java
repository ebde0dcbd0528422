package ai.deepchat.rag.ingest.format;

/**
 * A document converted to Markdown.
 *
 * @param markdown its structure as headings, lists and tables, with page or slide markers when paged
 * @param title    the document's own title (metadata, first sheet's book name), used when the
 *                 Markdown has no heading; may be null
 * @param located  whether {@code markdown} carries location markers
 */
public record Extracted(String markdown, String title, boolean located) {
}
