package ai.deepchat.rag.ingest;

import com.vladsch.flexmark.ext.tables.TablesExtension;
import com.vladsch.flexmark.ext.yaml.front.matter.YamlFrontMatterExtension;
import com.vladsch.flexmark.parser.Parser;
import com.vladsch.flexmark.parser.core.ReferencePreProcessorFactory;
import com.vladsch.flexmark.util.ast.Document;
import com.vladsch.flexmark.util.data.MutableDataSet;
import com.vladsch.flexmark.util.sequence.BasedSequence;

import java.util.List;

/**
 * The flexmark parser of ingestion: CommonMark with tables and YAML front matter, giving the same
 * blocks as flexmark's default parser in time linear in the text ({@link LinearInlineParser},
 * {@link LinearHeadingFactory}, {@link NestedParagraphFlattener}). Thread-safe, like flexmark's Parser.
 */
final class LinearMarkdownParser {

  private static final Parser PARSER = Parser.builder(new MutableDataSet()
          .set(Parser.EXTENSIONS, List.of(TablesExtension.create(), YamlFrontMatterExtension.create()))
          .set(Parser.HEADING_PARSER, false))
      .customBlockParserFactory(new LinearHeadingFactory())
      .customInlineParserFactory(LinearInlineParser::new)
      // flexmark adds the reference-definition step itself only with its own inline parser
      .paragraphPreProcessorFactory(new ReferencePreProcessorFactory())
      .blockPreProcessorFactory(new NestedParagraphFlattener())
      .build();

  private LinearMarkdownParser() {
  }

  static Document parse(CharSequence markdown) {
    return PARSER.parse(BasedSequence.of(markdown));
  }
}
