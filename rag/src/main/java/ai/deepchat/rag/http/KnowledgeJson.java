package ai.deepchat.rag.http;

import ai.deepchat.platform.rag.RagMessages.RetrieveReply;
import ai.deepchat.platform.rag.RagMessages.RetrievedChunk;
import ai.deepchat.rag.DocumentStatus;
import ai.deepchat.rag.KnowledgeBase;
import ai.deepchat.rag.Page;
import ai.deepchat.rag.Reembedding;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.function.Function;

/** The knowledge-base API's JSON: snake_case fields, lists in the OpenAI list shape. */
final class KnowledgeJson {

  private KnowledgeJson() {
  }

  static JsonObject knowledgeBase(KnowledgeBase kb) {
    return new JsonObject().put("id", kb.id().toString()).put("object", "knowledge_base")
        .put("name", kb.name()).put("description", kb.description())
        .put("embedding_model", kb.embeddingModel()).put("version", kb.version())
        .put("answers_chat", kb.answersChat()).put("reembedding", reembedding(kb.reembedding()));
  }

  /** The latest re-embedding, or null; {@code progress} from 0 to 1. */
  private static JsonObject reembedding(Reembedding r) {
    return r == null ? null : new JsonObject().put("embedding_model", r.model()).put("status", r.status())
        .put("done", r.done()).put("total", r.total())
        .put("progress", r.total() == 0 ? (r.running() ? 0.0 : 1.0) : Math.min(1.0, (double) r.done() / r.total()))
        .put("error", r.error()).put("switch", r.autoSwitch() ? "auto" : "manual");
  }

  static JsonObject document(DocumentStatus d) {
    return new JsonObject().put("id", d.id().toString()).put("object", "knowledge_base.document")
        .put("knowledge_base_id", d.knowledgeBaseId().toString()).put("title", d.title())
        .put("source_name", d.sourceName()).put("content_type", d.contentType()).put("size_bytes", d.sizeBytes())
        .put("status", d.status()).put("progress", d.progress()).put("error", d.error())
        .put("chunk_count", d.chunkCount());
  }

  /** {@code {"object": "list", "data", "first_id", "last_id", "has_more"}}; pass last_id as ?after=. */
  static <T> JsonObject page(Page<T> page, Function<T, JsonObject> item) {
    JsonArray data = new JsonArray();
    page.items().forEach(t -> data.add(item.apply(t)));
    return new JsonObject().put("object", "list").put("data", data)
        .put("first_id", data.isEmpty() ? null : data.getJsonObject(0).getString("id"))
        .put("last_id", data.isEmpty() ? null : data.getJsonObject(data.size() - 1).getString("id"))
        .put("has_more", page.hasMore());
  }

  static JsonObject searchResults(RetrieveReply reply) {
    JsonArray data = new JsonArray();
    for (RetrievedChunk hit : reply.hits()) {
      data.add(new JsonObject().put("chunk_id", hit.chunkId()).put("document_id", hit.documentId())
          .put("document_title", hit.documentTitle()).put("section_path", hit.sectionPath())
          .put("text", hit.text()).put("score", hit.fusedScore()).put("lexical_score", hit.lexicalScore())
          .put("vector_score", hit.vectorScore()));
    }
    return new JsonObject().put("object", "list").put("knowledge_base_id", reply.knowledgeBaseId())
        .put("knowledge_base_version", reply.knowledgeBaseVersion()).put("data", data);
  }
}
