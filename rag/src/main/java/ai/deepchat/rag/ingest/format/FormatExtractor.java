package ai.deepchat.rag.ingest.format;

import ai.deepchat.rag.ingest.ParseDeadline;

/**
 * Converts one file format to Markdown. CPU-bound: runs on the ingestion workers. Refuses what it
 * cannot read with a {@link ai.deepchat.rag.RagException} naming the document and the reason; other
 * exceptions are turned into one by {@link Extractors#extract}.
 */
interface FormatExtractor {

  Extracted extract(String sourceName, byte[] bytes, ParseDeadline deadline) throws Exception;
}
