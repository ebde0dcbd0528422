package ai.deepchat.rag.ingest;

import com.vladsch.flexmark.ast.Heading;
import com.vladsch.flexmark.ast.HtmlCommentBlock;
import com.vladsch.flexmark.ast.Paragraph;
import com.vladsch.flexmark.ast.ThematicBreak;
import com.vladsch.flexmark.ext.yaml.front.matter.YamlFrontMatterBlock;
import com.vladsch.flexmark.util.ast.Document;
import com.vladsch.flexmark.util.ast.Node;
import com.vladsch.flexmark.util.ast.TextCollectingVisitor;

import java.util.ArrayList;
import java.util.List;

/**
 * Chunks by structure first, then by a token budget. Headings give every chunk its section path and
 * chunks never span two sections. Tables, lists, code blocks and quotes are atomic: they are never
 * cut, even when one alone exceeds the budget. Paragraphs fill chunks whole and are split at sentence
 * ends (Chinese or English punctuation) only when one alone is too long; consecutive chunks of a
 * section share up to {@code overlapTokens} of trailing prose.
 */
public final class MarkdownChunker {

  public static final String PATH_SEPARATOR = " > ";

  private final int budget;
  private final int overlap;

  public MarkdownChunker(int budgetTokens, int overlapTokens) {
    this.budget = budgetTokens;
    this.overlap = overlapTokens;
  }

  private record Block(String text, boolean prose, String location) {
  }

  private record Section(String path, List<Block> blocks) {
  }

  private record Piece(String text, int tokens, boolean prose, boolean startsBlock, String location) {
  }

  /** The title (see {@link #titleOf(String)}) and the chunks of a Markdown text, from one parse. */
  public record Outline(String title, List<Chunk> chunks) {
  }

  /** The first level-1 heading (else the first heading), or null. */
  public static String titleOf(String markdown) {
    return titleOf(LinearMarkdownParser.parse(markdown));
  }

  public List<Chunk> chunkMarkdown(String markdown) {
    return chunks(LinearMarkdownParser.parse(markdown));
  }

  /** Title and chunks of {@code markdown}, parsed once (a {@link ParseDeadline} may watch it). */
  public Outline outline(CharSequence markdown) {
    return outline(markdown, false);
  }

  /**
   * As {@link #outline(CharSequence)}; with {@code located}, the {@link LocationMarker} blocks of an
   * extracted document give each chunk the pages (or slides) its text comes from.
   */
  public Outline outline(CharSequence markdown, boolean located) {
    Document document = LinearMarkdownParser.parse(markdown);
    return new Outline(titleOf(document), chunks(document, located));
  }

  private static String titleOf(Document document) {
    String first = null;
    for (Node node = document.getFirstChild(); node != null; node = node.getNext()) {
      if (node instanceof Heading heading) {
        if (heading.getLevel() == 1) {
          return plainText(heading);
        }
        first = first == null ? plainText(heading) : first;
      }
    }
    return first;
  }

  private List<Chunk> chunks(Document document) {
    return chunks(document, false);
  }

  private List<Chunk> chunks(Document document, boolean located) {
    String location = null;
    List<Section> sections = new ArrayList<>();
    List<String> headings = new ArrayList<>();
    List<Integer> levels = new ArrayList<>();
    Section current = new Section("", new ArrayList<>());
    sections.add(current);
    for (Node node = document.getFirstChild(); node != null; node = node.getNext()) {
      if (node instanceof Heading heading) {
        while (!levels.isEmpty() && levels.get(levels.size() - 1) >= heading.getLevel()) {
          levels.remove(levels.size() - 1);
          headings.remove(headings.size() - 1);
        }
        levels.add(heading.getLevel());
        headings.add(plainText(heading));
        current = new Section(String.join(PATH_SEPARATOR, headings), new ArrayList<>());
        sections.add(current);
      } else if (!(node instanceof ThematicBreak) && !(node instanceof YamlFrontMatterBlock)) {
        String text = node.getChars().toString().strip();
        String marker = located && node instanceof HtmlCommentBlock ? LocationMarker.label(text) : null;
        if (marker != null) {
          location = marker;
        } else if (!text.isEmpty()) {
          current.blocks().add(new Block(text, node instanceof Paragraph, location));
        }
      }
    }
    List<Chunk> chunks = new ArrayList<>();
    for (Section section : sections) {
      assemble(section, chunks);
    }
    return chunks;
  }

  /** Plain text: paragraphs are separated by blank lines, and there are no sections. */
  public List<Chunk> chunkText(String text) {
    List<Block> blocks = new ArrayList<>();
    for (String paragraph : text.split("\\R\\s*\\R")) {
      if (!paragraph.isBlank()) {
        blocks.add(new Block(paragraph.strip(), true, null));
      }
    }
    List<Chunk> chunks = new ArrayList<>();
    assemble(new Section("", blocks), chunks);
    return chunks;
  }

  private void assemble(Section section, List<Chunk> out) {
    List<Piece> current = new ArrayList<>();
    int tokens = 0;
    boolean hasNew = false;
    for (Block block : section.blocks()) {
      for (Piece piece : pieces(block)) {
        if (hasNew && tokens + piece.tokens() > budget) {
          out.add(render(out.size(), section.path(), current));
          current = carry(current, piece.tokens());
          tokens = current.stream().mapToInt(Piece::tokens).sum();
        }
        current.add(piece);
        tokens += piece.tokens();
        hasNew = true;
      }
    }
    if (hasNew) {
      out.add(render(out.size(), section.path(), current));
    }
  }

  private List<Piece> pieces(Block block) {
    int tokens = TokenEstimator.estimate(block.text());
    if (!block.prose() || tokens <= budget) {
      return List.of(new Piece(block.text(), tokens, block.prose(), true, block.location()));
    }
    List<Piece> pieces = new ArrayList<>();
    for (String sentence : SentenceSplitter.split(block.text())) {
      for (String part : hardSplit(sentence)) {
        pieces.add(new Piece(part, TokenEstimator.estimate(part), true, pieces.isEmpty(), block.location()));
      }
    }
    return pieces;
  }

  // A sentence over the budget (no punctuation for pages) is cut by length, at a space when possible.
  private List<String> hardSplit(String sentence) {
    if (TokenEstimator.estimate(sentence) <= budget) {
      return List.of(sentence);
    }
    List<String> parts = new ArrayList<>();
    int start = 0;
    while (start < sentence.length()) {
      // one pass per part: re-estimating every prefix made a long unpunctuated line quadratic
      int end = TokenEstimator.prefixWithin(sentence, start, budget);
      int space = sentence.lastIndexOf(' ', end - 1);
      if (end < sentence.length() && space > start) {
        end = space + 1;
      }
      parts.add(sentence.substring(start, end));
      start = end;
    }
    return parts;
  }

  // Trailing prose of the chunk just emitted, repeated at the start of the next one.
  private List<Piece> carry(List<Piece> emitted, int nextTokens) {
    List<Piece> carried = new ArrayList<>();
    int tokens = 0;
    for (int i = emitted.size() - 1; i >= 0; i--) {
      Piece piece = emitted.get(i);
      if (!piece.prose() || tokens + piece.tokens() > overlap) {
        break;
      }
      carried.add(0, piece);
      tokens += piece.tokens();
      if (piece.startsBlock()) {
        break;
      }
    }
    return tokens + nextTokens <= budget ? carried : new ArrayList<>();
  }

  private static Chunk render(int ordinal, String path, List<Piece> pieces) {
    StringBuilder text = new StringBuilder();
    for (Piece piece : pieces) {
      if (text.length() > 0 && piece.startsBlock()) {
        text.setLength(text.toString().stripTrailing().length());
        text.append("\n\n");
      }
      text.append(piece.text());
    }
    String body = text.toString().strip();
    String location = LocationMarker.span(pieces.get(0).location(), pieces.get(pieces.size() - 1).location());
    return new Chunk(ordinal, path, body, TokenEstimator.estimate(body), location);
  }

  private static String plainText(Node node) {
    return new TextCollectingVisitor().collectAndGetText(node).strip();
  }
}
