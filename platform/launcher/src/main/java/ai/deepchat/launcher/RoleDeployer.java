package ai.deepchat.launcher;

import ai.deepchat.chat.ChatFeature;
import ai.deepchat.canary.CanaryServices;
import ai.deepchat.gateway.GatewayVerticle;
import ai.deepchat.gateway.ManagementVerticle;
import ai.deepchat.gpu.worker.EngineWorkerVerticle;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.cluster.NodePingVerticle;
import ai.deepchat.platform.config.Role;
import ai.deepchat.platform.embed.Embedder;
import ai.deepchat.policy.PolicyServices;
import ai.deepchat.platform.metrics.GpuMonitor;
import ai.deepchat.platform.metrics.PlatformMetrics;
import ai.deepchat.platform.outbound.OutboundPolicy;
import ai.deepchat.rag.Rag;
import ai.deepchat.rag.RagConfig;
import ai.deepchat.rag.embed.EmbeddingModels;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Deploys the verticles of the roles this node runs, in dependency order. */
final class RoleDeployer {

  /**
   * What a node deployed; {@code rag} is null on nodes without the rag or gateway role.
   * {@code managementPort}: where /metrics is served (the HTTP port on nodes without the gateway role).
   */
  record Deployed(List<String> deploymentIds, int httpPort, Rag rag, int managementPort) {
  }

  private RoleDeployer() {
  }

  static Future<Deployed> deploy(Vertx vertx, Platform platform) {
    List<String> ids = new ArrayList<>();
    Future<Void> chain = vertx.deployVerticle(new NodePingVerticle(platform.nodeId())).map(id -> {
      ids.add(id);
      return null;
    });
    PolicyServices policy = PolicyServices.create(vertx, platform);
    // the one embedding model of FAQ matching and shadow comparison (loaded on first use)
    Embedder bge = EmbeddingModels.get(EmbeddingModels.BGE_SMALL_ZH);
    // model routing (registry, rollouts, chooser, guard, live workers) on every node that dispatches or serves the API;
    // created first: the pipeline chooses versions with it and reports outcomes to it
    Future<CanaryServices> canary = chain.compose(v -> CanaryServices.create(vertx, platform, policy.audit(), bge,
        Clock.systemUTC()));
    chain = canary.mapEmpty();
    Set<Role> roles = platform.config().roles();
    // one RAG module per node (FAISS indexes under DATA_DIR/faiss): retrieval on the bus for the rag
    // role, uploads and retrieval tests in process for the console and the API of the gateway role
    Rag rag = roles.contains(Role.RAG) || roles.contains(Role.GATEWAY)
        ? Rag.create(vertx, platform.database(), RagConfig.defaults(platform.config().dataDir())
            .withIngestWorkers(platform.config().instances().ingestWorkers())
            .withParseTimeout(Duration.ofSeconds(platform.config().instances().ingestParseSeconds()))
            .withMaxUploadBytes(platform.config().instances().ingestMaxFileMb() * 1024L * 1024),
        OutboundPolicy.of(platform.config())) : null;
    if (roles.contains(Role.RAG)) {
      chain = chain.compose(v -> vertx.deployVerticle(rag.retrieverVerticle())).map(id -> {
        ids.add(id);
        return null;
      });
      // scheduled web-source syncs: every rag node checks, a lease per source lets one node run each
      chain = chain.compose(v -> vertx.deployVerticle(rag.webSyncVerticle())).map(id -> {
        ids.add(id);
        return null;
      });
    }
    if (platform.config().roles().contains(Role.PIPELINE)) {
      chain = chain.compose(v -> PolicyServices.deployVerticles(vertx, platform)).map(policyIds -> {
        ids.addAll(policyIds);
        return null;
      });
      chain = chain.compose(v -> ChatFeature.deployPipeline(vertx, platform, policy, canary.result(), bge))
          .map(chatIds -> {
            ids.addAll(chatIds);
            return null;
          });
    }
    if (platform.config().roles().contains(Role.WORKER)) {
      // GPU gauges where nvidia-smi exists; the poll timer is Vert.x's and stops with it.
      GpuMonitor.start(vertx, PlatformMetrics.get().registry(), Optional.empty(),
          platform.config().metrics().gpuPollSeconds());
      EngineWorkerVerticle worker = WorkerSetup.worker(platform);
      // The worker loads its model (tokenizer and weights: seconds) at the same time as the pipeline loads
      // its tokenizer, both once the rollout routing exists: not one after the other (a repeated ./dev up
      // spent a quarter of its start there). The gateway still opens only when both are up.
      Future<String> workerDeployed = canary.compose(c -> vertx.deployVerticle(worker));
      chain = Future.all(chain, workerDeployed).map(all -> {
        ids.add(workerDeployed.result());
        return null;
      });
    }
    if (!platform.config().roles().contains(Role.GATEWAY)) {
      ManagementVerticle management = new ManagementVerticle(platform); // probes and metrics only
      return chain.compose(v -> vertx.deployVerticle(management)).map(id -> {
        ids.add(id);
        return new Deployed(ids, management.actualPort(), rag, management.actualPort());
      });
    }
    // the modules' node-wide parts read secrets and the widget script: on a worker thread, not an event loop
    return chain.compose(v -> vertx.executeBlocking(
            () -> new GatewayModules(vertx, platform, policy, canary.result(), rag)))
        .compose(modules -> GatewayVerticle.deploy(vertx, platform, modules))
        .compose(gateways -> {
          ids.add(gateways.deploymentId());
          // metrics beside the public port, never on it
          ManagementVerticle management = ManagementVerticle.beside(platform);
          return vertx.deployVerticle(management).map(id -> {
            ids.add(id);
            return new Deployed(ids, gateways.port(), rag, management.actualPort());
          });
        });
  }
}
