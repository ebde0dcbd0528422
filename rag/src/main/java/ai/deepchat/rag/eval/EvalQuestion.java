package ai.deepchat.rag.eval;

import ai.deepchat.rag.ingest.MarkdownChunker;

import java.util.Locale;

/**
 * One question of an evaluation set and where its answer is.
 *
 * @param document the expected document, by title or source name (case-insensitive; ".md" optional)
 * @param section  a heading of the expected section, or a path "Guide > Install"; blank: any section
 */
public record EvalQuestion(String question, String document, String section) {

  public EvalQuestion {
    question = question == null ? "" : question.strip();
    document = document == null ? "" : document.strip();
    section = section == null ? "" : section.strip();
  }

  /** Whether a chunk of the document with these names, under this section path, answers the question. */
  public boolean answeredBy(String title, String sourceName, String sectionPath) {
    return isDocument(title, sourceName) && inSection(sectionPath);
  }

  public boolean isDocument(String title, String sourceName) {
    String want = document.toLowerCase(Locale.ROOT);
    return want.equals(lower(title)) || want.equals(lower(sourceName)) || want.equals(lower(baseName(sourceName)));
  }

  private boolean inSection(String sectionPath) {
    if (section.isEmpty()) {
      return true;
    }
    String path = lower(sectionPath);
    String want = section.toLowerCase(Locale.ROOT);
    if (want.contains(MarkdownChunker.PATH_SEPARATOR.strip())) {
      return path.endsWith(want) || path.contains(want + MarkdownChunker.PATH_SEPARATOR);
    }
    // one heading: the section itself or any subsection below it
    for (String heading : path.split(java.util.regex.Pattern.quote(MarkdownChunker.PATH_SEPARATOR))) {
      if (heading.strip().equals(want)) {
        return true;
      }
    }
    return false;
  }

  private static String lower(String s) {
    return s == null ? "" : s.strip().toLowerCase(Locale.ROOT);
  }

  private static String baseName(String sourceName) {
    if (sourceName == null) {
      return "";
    }
    int dot = sourceName.lastIndexOf('.');
    return dot > 0 ? sourceName.substring(0, dot) : sourceName;
  }
}
