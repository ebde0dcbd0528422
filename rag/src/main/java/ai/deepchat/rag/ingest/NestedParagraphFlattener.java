package ai.deepchat.rag.ingest;

import com.vladsch.flexmark.ast.Paragraph;
import com.vladsch.flexmark.parser.block.BlockPreProcessor;
import com.vladsch.flexmark.parser.block.BlockPreProcessorFactory;
import com.vladsch.flexmark.parser.block.ParserState;
import com.vladsch.flexmark.util.ast.Block;
import com.vladsch.flexmark.util.ast.Document;
import org.jetbrains.annotations.NotNull;
import org.jetbrains.annotations.Nullable;

import java.util.List;
import java.util.Set;

/**
 * Gives every paragraph inside a quote or list item its source span as one content line, before
 * inline parsing. Such a paragraph's lines are separate pieces of the text ("> " or indentation cut
 * off), and flexmark 0.64.8 joins N pieces in time quadratic in N (its segment array grows by one
 * element at a time), without reading a character a {@link ParseDeadline} could stop it at: a 400 KB
 * quote took seconds, 20 MB would take an hour. Nested paragraphs are not parsed inline for
 * ingestion ({@link LinearInlineParser}) and the chunker reads only top-level blocks, so nothing
 * that ingestion reads changes.
 */
final class NestedParagraphFlattener implements BlockPreProcessorFactory {

  @NotNull
  @Override
  public Set<Class<? extends Block>> getBlockTypes() {
    return Set.of(Paragraph.class);
  }

  @NotNull
  @Override
  public BlockPreProcessor apply(@NotNull ParserState state) {
    return (parserState, block) -> {
      if (!(block.getParent() instanceof Document) && block.getContentLines().size() > 1) {
        block.setContentLines(List.of(block.getChars()));
      }
    };
  }

  @Nullable
  @Override
  public Set<Class<?>> getAfterDependents() {
    return null;
  }

  @Nullable
  @Override
  public Set<Class<?>> getBeforeDependents() {
    return null;
  }

  @Override
  public boolean affectsGlobalScope() {
    return false;
  }
}
