package ai.deepchat.rag.ingest;

import com.vladsch.flexmark.parser.block.AbstractBlockParserFactory;
import com.vladsch.flexmark.parser.block.BlockParserFactory;
import com.vladsch.flexmark.parser.block.BlockStart;
import com.vladsch.flexmark.parser.block.MatchedBlockParser;
import com.vladsch.flexmark.parser.block.ParserState;
import com.vladsch.flexmark.parser.core.HeadingParser;
import com.vladsch.flexmark.util.data.DataHolder;
import com.vladsch.flexmark.util.sequence.BasedSequence;
import org.jetbrains.annotations.NotNull;

import java.util.regex.Pattern;

/**
 * flexmark's heading parser, asked only about lines that can be headings. flexmark 0.64.8 rebuilds
 * the whole current paragraph before it looks at the line, for every paragraph line that starts with
 * something other than a letter ({@code -a}, {@code 2.}, {@code <}, a quote...), so a long paragraph
 * of such lines cost time quadratic in its length (90 KB: seconds). The patterns below are flexmark's
 * own ATX and setext patterns for its default options, the only ones the ingestion parser uses; a
 * line matching neither is refused by flexmark too, so the document is parsed exactly as before.
 * Replaces the core factory (turned off with {@code Parser.HEADING_PARSER}) and keeps its ordering.
 */
final class LinearHeadingFactory extends HeadingParser.Factory {

  private static final Pattern ATX_HEADING = Pattern.compile("^#{1,6}(?:[ \t]+|$)");
  private static final Pattern SETEXT_HEADING = Pattern.compile("^(?:=+|-+)[ \t]*$");

  @NotNull
  @Override
  public BlockParserFactory apply(@NotNull DataHolder options) {
    BlockParserFactory headings = super.apply(options);
    return new AbstractBlockParserFactory(options) {
      @Override
      public BlockStart tryStart(ParserState state, MatchedBlockParser matchedBlockParser) {
        BasedSequence line = state.getLine();
        BasedSequence rest = line.subSequence(state.getNextNonSpaceIndex(), line.length());
        if (!ATX_HEADING.matcher(rest).find() && !SETEXT_HEADING.matcher(rest).find()) {
          return BlockStart.none();
        }
        return headings.tryStart(state, matchedBlockParser);
      }
    };
  }
}
