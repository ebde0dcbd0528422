package ai.deepchat.launcher;

import ai.deepchat.console.ConsoleModule;
import ai.deepchat.gateway.GatewayVerticle;
import ai.deepchat.gpu.worker.EngineWorkerVerticle;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.cluster.NodePingVerticle;
import ai.deepchat.platform.config.Role;
import ai.deepchat.platform.http.HttpModule;
import ai.deepchat.policy.PolicyServices;
import ai.deepchat.widget.WidgetScriptModule;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;

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
      EngineWorkerVerticle worker = WorkerSetup.worker(platform);
      chain = chain.compose(v -> vertx.deployVerticle(worker)).map(id -> {
        ids.add(id);
        return null;
      });
    }
    if (!platform.config().roles().contains(Role.GATEWAY)) {
      return chain.map(v -> new Deployed(ids, -1));
    }
    GatewayVerticle gateway = new GatewayVerticle(platform, httpModules(vertx, platform, policy));
    return chain.compose(v -> vertx.deployVerticle(gateway))
        .map(id -> {
          ids.add(id);
          return new Deployed(ids, gateway.actualPort());
        });
  }

  private static List<HttpModule> httpModules(Vertx vertx, Platform platform, PolicyServices policy) {
    List<HttpModule> modules = new ArrayList<>();
    modules.addAll(policy.httpModules(platform));
    modules.add(new WidgetScriptModule());
    // ingestion: none wired yet on this node (uploads report "unavailable"; retrieval uses the bus)
    modules.add(new ConsoleModule(vertx, platform, policy.audit(), null));
    return modules;
  }
}
