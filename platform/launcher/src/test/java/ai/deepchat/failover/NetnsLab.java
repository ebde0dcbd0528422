package ai.deepchat.failover;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Nodes in network namespaces of their own, so a test can cut the network between them (RELIABILITY.md
 * scenario 10) without touching this host's. Needs root and iproute2 (Linux).
 *
 * <p>Each node {@code i} gets namespace {@code dcq-n<i>} with two links:
 * <ul>
 *   <li>the cluster network, a veth on bridge {@code dcqA} ({@value #CLUSTER}.(10+i)); this JVM is on it
 *       too ({@value #CLUSTER}.1) for probe members;
 *   <li>a private link to this host ({@value #HOST}.i.2, host side .1), over which the test reaches the
 *       node's HTTP port and the node reaches PostgreSQL; no route leads from it to another node.
 * </ul>
 * {@link #partition} moves some nodes' cluster links onto a second bridge, {@code dcqB}, so the two
 * groups no longer reach each other (packets are dropped, as on a real cut); {@link #heal} moves them
 * back.
 */
final class NetnsLab implements NodeNetwork, AutoCloseable {

  static final String CLUSTER = "10.213.0";
  static final String HOST = "10.214";
  private static final String PREFIX = "dcq";

  private final int nodes;

  private NetnsLab(int nodes) {
    this.nodes = nodes;
  }

  /** Whether this machine lets the test build namespaces and veth links (root, iproute2, no sandbox veto). */
  static boolean available() {
    try {
      if (run(false, "ip", "netns", "add", PREFIX + "-probe") != 0) {
        return false;
      }
      run(false, "ip", "netns", "del", PREFIX + "-probe");
      if (run(false, "ip", "link", "add", PREFIX + "p0", "type", "veth", "peer", "name", PREFIX + "p1") != 0) {
        return false;
      }
      run(false, "ip", "link", "del", PREFIX + "p0");
      return true;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  static NetnsLab create(int nodes) throws Exception {
    NetnsLab lab = new NetnsLab(nodes);
    lab.teardown(); // what a killed earlier run may have left
    ip("link", "add", PREFIX + "A", "type", "bridge");
    ip("addr", "add", CLUSTER + ".1/24", "dev", PREFIX + "A");
    ip("link", "set", PREFIX + "A", "up");
    ip("link", "add", PREFIX + "B", "type", "bridge");
    ip("link", "set", PREFIX + "B", "up");
    for (int i = 0; i < nodes; i++) {
      String ns = namespace(i);
      ip("netns", "add", ns);
      ip("-n", ns, "link", "set", "lo", "up");
      // cluster link
      ip("link", "add", PREFIX + i + "c", "type", "veth", "peer", "name", PREFIX + i + "cn");
      ip("link", "set", PREFIX + i + "cn", "netns", ns);
      ip("-n", ns, "addr", "add", CLUSTER + "." + (10 + i) + "/24", "dev", PREFIX + i + "cn");
      ip("-n", ns, "link", "set", PREFIX + i + "cn", "up");
      ip("link", "set", PREFIX + i + "c", "master", PREFIX + "A");
      ip("link", "set", PREFIX + i + "c", "up");
      // private link to this host
      ip("link", "add", PREFIX + i + "h", "type", "veth", "peer", "name", PREFIX + i + "hn");
      ip("link", "set", PREFIX + i + "hn", "netns", ns);
      ip("addr", "add", HOST + "." + i + ".1/24", "dev", PREFIX + i + "h");
      ip("link", "set", PREFIX + i + "h", "up");
      ip("-n", ns, "addr", "add", HOST + "." + i + ".2/24", "dev", PREFIX + i + "hn");
      ip("-n", ns, "link", "set", PREFIX + i + "hn", "up");
    }
    return lab;
  }

  /** Cuts {@code side} off from the other nodes (and from this JVM's probe members). */
  void partition(Set<Integer> side) throws Exception {
    for (int i : side) {
      ip("link", "set", PREFIX + i + "c", "master", PREFIX + "B");
    }
  }

  /** Every node on one network again. */
  void heal() throws Exception {
    for (int i = 0; i < nodes; i++) {
      ip("link", "set", PREFIX + i + "c", "master", PREFIX + "A");
    }
  }

  @Override
  public String clusterHost(int node) {
    return CLUSTER + "." + (10 + node);
  }

  @Override
  public String httpHost(int node) {
    return HOST + "." + node + ".2";
  }

  @Override
  public String databaseHost(int node) {
    return HOST + "." + node + ".1";
  }

  @Override
  public String probeHost() {
    return CLUSTER + ".1";
  }

  @Override
  public List<String> launcher(int node) {
    return List.of("ip", "netns", "exec", namespace(node));
  }

  private static String namespace(int node) {
    return PREFIX + "-n" + node;
  }

  /** Removes the namespaces and links (the node processes must have exited). */
  @Override
  public void close() throws Exception {
    teardown();
  }

  private void teardown() throws Exception {
    for (int i = 0; i < Math.max(nodes, 8); i++) {
      run(false, "ip", "netns", "del", namespace(i));
      run(false, "ip", "link", "del", PREFIX + i + "c");
      run(false, "ip", "link", "del", PREFIX + i + "h");
    }
    run(false, "ip", "link", "del", PREFIX + "A");
    run(false, "ip", "link", "del", PREFIX + "B");
  }

  private static void ip(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("ip"));
    cmd.addAll(List.of(args));
    run(true, cmd.toArray(String[]::new));
  }

  private static int run(boolean check, String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(10, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(String.join(" ", cmd) + ": timed out");
    }
    if (check && p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + out.trim());
    }
    return p.exitValue();
  }
}
