package ai.deepchat.ops;

import ai.deepchat.launcher.Node;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.metrics.GpuMonitor;
import ai.deepchat.platform.metrics.PlatformMetrics;
import ai.deepchat.platform.metrics.StreamMetrics;
import ai.deepchat.policy.PolicyMetrics;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The deployment files under ops/ (no container engine here): every YAML and JSON parses; the
 * Kubernetes manifests carry probes, resources, a GPU request, a headless Hazelcast service and
 * disruption budgets; every configuration key they set is a documented one; and every metric name
 * the alerts and the dashboard query is one a real node exposes on /metrics.
 */
class OpsManifestsTest {

  private static final Pattern METRIC = Pattern.compile("\\b(?:deepchat|vertx|jvm|process|system)_[a-z0-9_]+\\b|\\bup\\b");
  private static Path root;

  @BeforeAll
  static void findRoot() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !(Files.isDirectory(p.resolve("ops")) && Files.isRegularFile(p.resolve("pom.xml")))) {
      p = p.getParent();
    }
    assertThat(p).as("repository root with ops/").isNotNull();
    root = p;
  }

  private static List<Path> files(String ext) throws IOException {
    try (Stream<Path> s = Files.walk(root.resolve("ops"))) {
      return s.filter(f -> f.toString().endsWith(ext)).sorted().toList();
    }
  }

  private static List<Object> yamlDocs(Path file) throws IOException {
    Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
    List<Object> docs = new ArrayList<>();
    yaml.loadAll(Files.readString(file)).forEach(d -> {
      if (d != null) {
        docs.add(d);
      }
    });
    return docs;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o, String... path) {
    Object cur = o;
    for (String key : path) {
      cur = ((Map<String, Object>) cur).get(key);
    }
    return (Map<String, Object>) cur;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Object o, String... path) {
    Object cur = o;
    for (int i = 0; i < path.length - 1; i++) {
      cur = ((Map<String, Object>) cur).get(path[i]);
    }
    return (List<Object>) ((Map<String, Object>) cur).get(path[path.length - 1]);
  }

  @Test
  void everyYamlAndJsonFileParses() throws IOException {
    List<Path> yamls = new ArrayList<>(files(".yaml"));
    yamls.addAll(files(".yml"));
    assertThat(yamls).hasSizeGreaterThanOrEqualTo(10);
    for (Path f : yamls) {
      assertThat(yamlDocs(f)).as(f.toString()).isNotEmpty();
    }
    for (Path f : files(".json")) {
      new JsonObject(Files.readString(f));
    }
  }

  @Test
  void kubernetesManifestsHaveProbesResourcesGpuDiscoveryAndBudgets() throws IOException {
    List<Map<String, Object>> objects = new ArrayList<>();
    for (Path f : files(".yaml")) {
      if (f.startsWith(root.resolve("ops/k8s")) && !f.endsWith("kustomization.yaml")) {
        yamlDocs(f).forEach(d -> objects.add(map(d)));
      }
    }
    List<Map<String, Object>> deployments = objects.stream().filter(o -> "Deployment".equals(o.get("kind"))).toList();
    assertThat(deployments).extracting(d -> map(d, "metadata").get("name"))
        .containsExactlyInAnyOrder("deepchat-gateway", "deepchat-pipeline", "deepchat-worker");
    Set<String> pdbTargets = new HashSet<>();
    objects.stream().filter(o -> "PodDisruptionBudget".equals(o.get("kind")))
        .forEach(o -> pdbTargets.add(String.valueOf(map(o, "spec", "selector", "matchLabels").get("app.kubernetes.io/name"))));
    Set<String> documented = documentedKeys();

    for (Map<String, Object> d : deployments) {
      String name = (String) map(d, "metadata").get("name");
      Map<String, Object> pod = map(d, "spec", "template", "spec");
      Map<String, Object> container = map(list(pod, "containers").get(0));
      assertThat(map(container, "livenessProbe", "httpGet").get("path")).as(name).isEqualTo("/health/live");
      assertThat(map(container, "readinessProbe", "httpGet").get("path")).as(name).isEqualTo("/health/ready");
      assertThat(map(container, "resources", "requests")).as(name).containsKeys("cpu", "memory");
      assertThat(map(container, "resources", "limits")).as(name).containsKeys("cpu", "memory");
      assertThat(pdbTargets).as("a PodDisruptionBudget for " + name).contains(name);
      assertThat(((Number) pod.get("terminationGracePeriodSeconds")).intValue()).as(name).isGreaterThan(45);
      for (Object env : list(container, "env")) {
        assertThat(documented).as(name + " env").contains((String) map(env).get("name"));
      }
      if (name.equals("deepchat-worker")) {
        assertThat(map(container, "resources", "limits").get("nvidia.com/gpu")).isEqualTo(1);
        assertThat(map(container, "resources", "requests").get("nvidia.com/gpu")).isEqualTo(1);
      }
    }
    Map<String, Object> headless = objects.stream()
        .filter(o -> "Service".equals(o.get("kind")) && "deepchat-hazelcast".equals(map(o, "metadata").get("name")))
        .findFirst().orElseThrow();
    assertThat(map(headless, "spec").get("clusterIP")).isEqualTo("None");
    Map<String, Object> config = objects.stream().filter(o -> "ConfigMap".equals(o.get("kind"))).findFirst().orElseThrow();
    assertThat(map(config, "data")).containsEntry("CLUSTER_DISCOVERY", "kubernetes")
        .containsEntry("CLUSTER_K8S_SERVICE", "deepchat-hazelcast");
    for (String key : map(config, "data").keySet()) {
      assertThat(documented).as("ConfigMap key").contains(key);
    }
    // the ConfigMap is what ConfigLoader will parse in the pods: it must pass validation
    Map<String, String> env = new java.util.HashMap<>();
    map(config, "data").forEach((k, v) -> env.put(k, String.valueOf(v)));
    env.remove("JAVA_OPTS");
    assertThat(ConfigLoader.load(env, new String[0]).cluster().kubernetes()).isTrue();
  }

  @Test
  void composeNodesUseDocumentedKeysAndTheThreeRoles() throws IOException {
    Map<String, Object> compose = map(yamlDocs(root.resolve("ops/compose/docker-compose.yml")).get(0));
    Map<String, Object> services = map(compose, "services");
    assertThat(services).containsKeys("postgres", "gateway", "pipeline", "worker");
    assertThat(map(services, "postgres").get("image").toString()).startsWith("postgres:16");
    Set<String> documented = documentedKeys();
    Set<String> roles = new TreeSet<>();
    for (String node : List.of("gateway", "pipeline", "worker")) {
      Map<String, Object> env = map(services, node, "environment");
      roles.add(String.valueOf(env.get("ROLES")));
      for (String key : env.keySet()) {
        assertThat(documented).as(node + " env").contains(key);
      }
    }
    assertThat(roles).containsExactlyInAnyOrder("gateway", "pipeline,rag", "worker");
  }

  /**
   * promtool (Debian package prometheus) checks the rules, runs the alert unit tests in
   * alerts.test.yml and checks the scrape configs; skipped where promtool is not installed.
   */
  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void promtoolAcceptsRulesConfigsAndAlertUnitTests() throws Exception {
    boolean present = Stream.of(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
        .anyMatch(d -> !d.isEmpty() && Files.isExecutable(Path.of(d, "promtool")));
    org.junit.jupiter.api.Assumptions.assumeTrue(present, "promtool not installed (apt-get install prometheus)");
    Process p = new ProcessBuilder("bash", root.resolve("ops/prometheus/check.sh").toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(p.waitFor(90, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("SUCCESS: 7 rules found").contains("Unit Testing");
  }

  /** Keys in docs/configuration.md tables, plus JAVA_OPTS (read by the image's entry point, not the JVM). */
  private static Set<String> documentedKeys() throws IOException {
    Set<String> keys = new HashSet<>(Set.of("JAVA_OPTS"));
    Matcher m = Pattern.compile("(?m)^\\| `([A-Z0-9_]+)` \\|").matcher(Files.readString(root.resolve("docs/configuration.md")));
    while (m.find()) {
      keys.add(m.group(1));
    }
    return keys;
  }

  @Test
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void alertsAndDashboardQueryOnlyMetricsANodeExposes(@TempDir Path dir) throws Exception {
    Set<String> referenced = new TreeSet<>();
    for (String f : List.of("ops/prometheus/alerts.yml", "ops/prometheus/alerts.test.yml")) {
      referenced.addAll(metricNames(Files.readString(root.resolve(f)).lines()
          .filter(l -> !l.trim().startsWith("#")).toList()));
    }
    for (Object p : new JsonObject(Files.readString(root.resolve("ops/grafana/deepchat.json"))).getJsonArray("panels")) {
      JsonArray targets = ((JsonObject) p).getJsonArray("targets");
      if (targets != null) {
        targets.forEach(t -> referenced.addAll(metricNames(List.of(((JsonObject) t).getString("expr")))));
      }
    }
    assertThat(referenced).contains("deepchat_time_to_first_token_seconds_bucket", "deepchat_gpu_memory_used_bytes",
        "vertx_http_server_requests_total", "up");

    Set<String> exposed = scrapeRealNode(dir);
    exposed.add("up"); // added by Prometheus itself for every target
    assertThat(exposed).as("every metric the alerts and dashboard use").containsAll(referenced);
  }

  /** Names in PromQL lines, string literals removed so label values are not taken for metrics. */
  private static Set<String> metricNames(List<String> lines) {
    Set<String> names = new TreeSet<>();
    for (String line : lines) {
      String code = line.replaceAll("\"[^\"]*\"", "\"\"").replaceAll("'", " ");
      Matcher m = METRIC.matcher(code);
      while (m.find()) {
        names.add(m.group());
      }
    }
    return names;
  }

  /**
   * A real node (embedded PostgreSQL, gateway and pipeline roles), with the platform's meters fed
   * once through the facade and a GPU poll from a stand-in nvidia-smi; returns the metric names on
   * its /metrics.
   */
  private static Set<String> scrapeRealNode(Path dir) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    try (Node node = Node.start(ConfigLoader.load(Map.of("DATA_DIR", dir.resolve("data").toString(),
        "HTTP_PORT", String.valueOf(port), "HTTP_HOST", "127.0.0.1", "SEED_DEMO", "false",
        "ROLES", "gateway,pipeline"), new String[0]))) {
      PlatformMetrics metrics = PlatformMetrics.get();
      StreamMetrics stream = metrics.startStream("tenant", "model");
      stream.tokens(1);
      stream.tokens(1);
      stream.finish(StreamMetrics.Outcome.COMPLETE);
      metrics.cacheLookup("faq", true);
      metrics.moderationHit("tenant", "output", "block");
      metrics.shed("overload");
      AutoCloseable worker = metrics.registerWorker("w", "model", () -> 1, () -> 0.5, () -> 3L);
      PolicyMetrics.moderation("input", "block");
      PolicyMetrics.rateLimited("tenant");
      Path smi = dir.resolve("nvidia-smi");
      Files.writeString(smi, "#!/bin/sh\necho '0, NVIDIA H100, 50, 1000, 80000'\n");
      Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwx------"));
      Optional<GpuMonitor> gpu = GpuMonitor.start(node.vertx(), metrics.registry(), Optional.of(smi), 60);

      HttpClient http = HttpClient.newHttpClient();
      http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/no/such")).build(),
          HttpResponse.BodyHandlers.discarding());
      // Micrometer creates the GC pause timer at the first collection it hears of; a node that has
      // run a while has had one, this young test JVM may not have
      System.gc();
      String text = "";
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (System.nanoTime() < deadline) {
        text = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.managementPort() + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString()).body();
        if (text.contains("deepchat_gpu_memory_used_bytes") && text.contains("jvm_gc_pause_seconds")) {
          break;
        }
        Thread.sleep(100);
      }
      gpu.ifPresent(GpuMonitor::close);
      worker.close();
      Set<String> names = new HashSet<>();
      text.lines().filter(l -> !l.startsWith("#") && !l.isBlank())
          .forEach(l -> names.add(l.split("[{ ]", 2)[0]));
      return names;
    }
  }
}
