package ai.deepchat.launcher;

import ai.deepchat.gateway.GatewayVerticle;
import ai.deepchat.gateway.ManagementVerticle;
import ai.deepchat.gpu.worker.EngineWorkerVerticle;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.cluster.NodePingVerticle;
import ai.deepchat.platform.config.Role;
import ai.deepchat.platform.http.HttpModule;
import ai.deepchat.policy.PolicyServices;
import ai.deepchat.platform.metrics.GpuMonitor;
import ai.deepchat.platform.metrics.PlatformMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Deploys the verticles of the roles this node runs, in dependency order. */
final class RoleDeployer {

  record Deployed(List<String> deploymentIds, int httpPort) {
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
    if (platform.config().roles().contains(Role.PIPELINE)) {
      chain = chain.compose(v -> PolicyServices.deployVerticles(vertx, platform)).map(policyIds -> {
        ids.addAll(policyIds);
        return null;
      });
    }
    if (platform.config().roles().contains(Role.WORKER)) {
      // GPU gauges where nvidia-smi exists; the poll timer is Vert.x's and stops with it.
      GpuMonitor.start(vertx, PlatformMetrics.get().registry(), Optional.empty(),
          platform.config().metrics().gpuPollSeconds());
      EngineWorkerVerticle worker = WorkerSetup.worker(platform);
      chain = chain.compose(v -> vertx.deployVerticle(worker)).map(id -> {
        ids.add(id);
        return null;
      });
    }
    if (!platform.config().roles().contains(Role.GATEWAY)) {
      ManagementVerticle management = new ManagementVerticle(platform); // probes and metrics only
      return chain.compose(v -> vertx.deployVerticle(management)).map(id -> {
        ids.add(id);
        return new Deployed(ids, management.actualPort());
      });
    }
    GatewayVerticle gateway = new GatewayVerticle(platform, httpModules(platform, policy));
    return chain.compose(v -> vertx.deployVerticle(gateway))
        .map(id -> {
          ids.add(id);
          return new Deployed(ids, gateway.actualPort());
        });
  }

  private static List<HttpModule> httpModules(Platform platform, PolicyServices policy) {
    List<HttpModule> modules = new ArrayList<>();
    modules.addAll(policy.httpModules(platform));
    return modules;
  }
}
