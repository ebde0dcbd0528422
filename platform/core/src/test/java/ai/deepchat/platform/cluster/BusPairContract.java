package ai.deepchat.platform.cluster;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * Base of a bus contract written once (platform-core test jar): its local subclass answers
 * {@link #startNodes} with {@link BusPair#local()}, its clustered one with {@link BusPair#clustered()}.
 * The nodes start once per class, before the subclass's own {@code @BeforeAll}, and close after its
 * {@code @AfterAll}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class BusPairContract {

  /** Asking: the node that sends; serving: the node that answers (the same one when local). */
  protected BusPair nodes;

  protected abstract BusPair startNodes() throws Exception;

  @BeforeAll
  protected final void startPair() throws Exception {
    nodes = startNodes();
  }

  @AfterAll
  protected final void closePair() throws Exception {
    nodes.close();
  }
}
