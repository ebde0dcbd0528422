package ai.deepchat.platform.cluster;

import io.vertx.core.Vertx;

import static ai.deepchat.platform.testing.Await.await;

/** {@link ReachCheckContract} on one local Vert.x instance: the bus never leaves the JVM's memory. */
class LocalReachCheckTest extends ReachCheckContract {

  @Override
  protected void startNodes() {
    asker = Vertx.vertx();
    checked = asker;
  }

  @Override
  protected void stopNodes() throws Exception {
    await(asker.close());
  }
}
