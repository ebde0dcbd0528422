package ai.deepchat;

import ai.deepchat.chat.ChatFeature;
import ai.deepchat.platform.testing.ModuleBoundaries;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The pipeline never compiles against the engine (gpu-worker) or the RAG module's internals: it reaches
 * them through platform-core's contracts (bus addresses, {@code Embedder}, {@code KnowledgeBaseApi}) and
 * platform-tokenizer, and the launcher passes the implementations (docs/architecture.md, "Module APIs").
 */
class ModuleBoundaryTest {

  @Test
  void mainClassesNameNoEngineOrRagType() throws Exception {
    Map<String, Set<String>> refs = ModuleBoundaries.references(ChatFeature.class);
    // the scan reads real class files: it sees the contracts the pipeline does use
    assertThat(refs).hasSizeGreaterThan(100);
    assertThat(refs.values()).anySatisfy(names -> assertThat(names).contains("ai/deepchat/platform/embed/Embedder"));
    assertThat(refs.values()).anySatisfy(names -> assertThat(names).contains("ai/deepchat/tokenizer/DeepSeekTokenizer"));
    assertThat(ModuleBoundaries.violations(refs, List.of("ai/deepchat/rag/", "ai/deepchat/gpu/"))).isEmpty();
  }
}
