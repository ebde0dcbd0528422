package ai.deepchat.rag.cite;

import ai.deepchat.platform.rag.RagMessages.RetrievedChunk;
import ai.deepchat.rag.ingest.MarkdownChunker;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Numbers retrieved chunks into the context block of a prompt ("[1] Title › Section" then the text)
 * and maps the [n] markers of a model's answer back to the documents they cite.
 */
final class Citations {

  private static final Pattern MARKER = Pattern.compile("\\[(\\d{1,3}(?:\\s*,\\s*\\d{1,3})*)]");

  /** What [n] refers to. */
  public record Citation(int number, String chunkId, String documentId, String documentTitle,
                         String sectionPath) {
  }

  /** The numbered context block and its citations, [1] first. */
  public record Context(String block, List<Citation> citations) {

    /** The citations an answer refers to, in order of first mention; unknown numbers are ignored. */
    public List<Citation> cited(String answer) {
      Map<Integer, Citation> found = new LinkedHashMap<>();
      Matcher m = MARKER.matcher(answer);
      while (m.find()) {
        for (String n : m.group(1).split(",")) {
          int number = Integer.parseInt(n.strip());
          if (number >= 1 && number <= citations.size()) {
            found.putIfAbsent(number, citations.get(number - 1));
          }
        }
      }
      return new ArrayList<>(found.values());
    }
  }

  private Citations() {
  }

  public static Context number(List<RetrievedChunk> hits) {
    StringBuilder block = new StringBuilder();
    List<Citation> citations = new ArrayList<>(hits.size());
    for (int i = 0; i < hits.size(); i++) {
      RetrievedChunk hit = hits.get(i);
      int number = i + 1;
      citations.add(new Citation(number, hit.chunkId(), hit.documentId(), hit.documentTitle(),
          hit.sectionPath()));
      if (i > 0) {
        block.append("\n\n");
      }
      block.append('[').append(number).append("] ").append(heading(hit)).append('\n')
          .append(hit.text().strip());
    }
    return new Context(block.toString(), List.copyOf(citations));
  }

  /** "Title › Section › Subsection", without repeating a title that is also the top heading. */
  static String heading(RetrievedChunk hit) {
    List<String> parts = new ArrayList<>();
    parts.add(hit.documentTitle());
    if (!hit.sectionPath().isEmpty()) {
      List<String> sections = List.of(hit.sectionPath().split(Pattern.quote(MarkdownChunker.PATH_SEPARATOR)));
      int from = !sections.isEmpty() && sections.get(0).equals(hit.documentTitle()) ? 1 : 0;
      parts.addAll(sections.subList(from, sections.size()));
    }
    return String.join(" › ", parts);
  }
}
