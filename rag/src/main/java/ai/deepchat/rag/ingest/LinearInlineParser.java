package ai.deepchat.rag.ingest;

import com.vladsch.flexmark.ast.Heading;
import com.vladsch.flexmark.ast.Text;
import com.vladsch.flexmark.parser.InlineParserExtensionFactory;
import com.vladsch.flexmark.parser.delimiter.DelimiterProcessor;
import com.vladsch.flexmark.parser.internal.CommonmarkInlineParser;
import com.vladsch.flexmark.parser.internal.LinkRefProcessorData;
import com.vladsch.flexmark.util.ast.Document;
import com.vladsch.flexmark.util.ast.Node;
import com.vladsch.flexmark.util.data.DataHolder;
import com.vladsch.flexmark.util.sequence.BasedSequence;

import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * flexmark's inline parser, bounded for ingestion. The chunker reads blocks by their source text and
 * needs inline structure only for the plain text of top-level headings, so only those are parsed
 * inline (up to {@link #MAX_HEADING_CHARS}), with the rows of tables (the tables extension needs
 * their inline structure to find the cell pipes, one line at a time); every other block keeps its text
 * as one {@link Text}.
 * That removes the super-linear inline cases (flexmark 0.64.8 scans to the end of the paragraph for
 * every unclosed {@code [a](}, and its emphasis and image-bracket processing backtracks) without
 * changing any block or its source range.
 *
 * <p>Regex matches are also taken without {@link Matcher#toMatchResult()}: on Java 17 it copies the
 * whole paragraph into a String at every match, so each code span, link or reference definition cost
 * time proportional to the paragraph (90 KB of {@code `a} took minutes of CPU). A regex that overflows
 * the stack (java.util.regex recurses once per repeat of an alternation, so a few KB inside
 * {@code <...>} or a quoted link title is enough) counts as no match: the text stays literal.
 */
final class LinearInlineParser extends CommonmarkInlineParser {

  /** Longer headings are not real headings; their text is taken as written. */
  static final int MAX_HEADING_CHARS = 1_000;

  LinearInlineParser(DataHolder options, BitSet specialCharacters, BitSet delimiterCharacters,
                     Map<Character, DelimiterProcessor> delimiterProcessors,
                     LinkRefProcessorData linkRefProcessors,
                     List<InlineParserExtensionFactory> inlineParserExtensions) {
    super(options, specialCharacters, delimiterCharacters, delimiterProcessors, linkRefProcessors,
        inlineParserExtensions);
  }

  @Override
  public void parse(BasedSequence content, Node block) {
    boolean tableRow = customCharacters != null; // parseCustom: the tables extension finding cell pipes
    if (tableRow || block instanceof Heading && block.getParent() instanceof Document
        && content.length() <= MAX_HEADING_CHARS) {
      super.parse(content, block);
    } else if (!content.isEmpty()) {
      block.appendChild(new Text(content));
    }
  }

  @Override
  public BasedSequence match(Pattern re) {
    Matcher matcher = find(re);
    return matcher == null ? null : input.subSequence(matcher.start(), matcher.end());
  }

  @Override
  public BasedSequence[] matchWithGroups(Pattern re) {
    Matcher matcher = find(re);
    if (matcher == null) {
      return null;
    }
    BasedSequence[] groups = new BasedSequence[matcher.groupCount() + 1];
    for (int i = 0; i < groups.length; i++) {
      groups[i] = matcher.start(i) < 0 ? null : input.subSequence(matcher.start(i), matcher.end(i));
    }
    return groups;
  }

  // As flexmark's own match: the first match at or after index, which then moves past it.
  private Matcher find(Pattern re) {
    if (index >= input.length()) {
      return null;
    }
    Matcher matcher = re.matcher(input);
    matcher.region(index, input.length());
    try {
      if (!matcher.find()) {
        return null;
      }
    } catch (StackOverflowError e) {
      return null;
    }
    index = matcher.end();
    return matcher;
  }
}
