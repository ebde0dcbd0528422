package ai.deepchat.console;

import ai.deepchat.platform.testing.ModuleBoundaries;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The console changes model versions and rollouts through platform-core's {@code ModelAdmin} and writes
 * audit rows through {@code AuditTrail}: it never compiles against the canary feature or the audit log's
 * implementation, nor against the engine or the RAG module, whose knowledge operations it reaches through
 * its own {@code KnowledgeBackend}, wired by the launcher (docs/architecture.md, "Module APIs").
 */
class ModuleBoundaryTest {

  @Test
  void mainClassesNameNoCanaryAuditEngineOrRagInternals() throws Exception {
    Map<String, Set<String>> refs = ModuleBoundaries.references(ConsoleModule.class);
    // the scan reads real class files: it sees the contracts the console does use
    assertThat(refs.values()).anySatisfy(names -> assertThat(names).contains("ai/deepchat/platform/canary/ModelAdmin"));
    assertThat(refs.values()).anySatisfy(names -> assertThat(names).contains("ai/deepchat/platform/policy/AuditTrail"));
    assertThat(ModuleBoundaries.violations(refs,
        List.of("ai/deepchat/canary/", "ai/deepchat/policy/audit/", "ai/deepchat/gpu/", "ai/deepchat/rag/"))).isEmpty();
  }
}
