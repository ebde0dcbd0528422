package ai.deepchat.rag.ingest;

import java.util.List;

/** A document after conversion and chunking. */
public record ParsedDocument(String title, SourceFormat format, List<Chunk> chunks) {
}
