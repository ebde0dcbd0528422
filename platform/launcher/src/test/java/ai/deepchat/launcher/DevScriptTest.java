package ai.deepchat.launcher;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The repository's real {@code dev} script, run by bash in a copy of a small source tree. Maven, java
 * and dpkg-query are stand-ins on PATH that record how they were called (the real build takes minutes
 * and is what {@code ./dev test} runs); what is checked is the script's own logic: build output to a
 * log, no tests on {@code up}, no second build when nothing changed, the log's tail on failure.
 */
class DevScriptTest {

  private static final Path DEV = Path.of("").toAbsolutePath().resolve("../../dev").normalize();
  private static final String ARCHIVE = "platform/launcher/target/dev-up.jsa";

  @TempDir
  Path dir;
  private Path repo;
  private Path bin;
  private Path calls;

  record Run(int exit, String out, String err) {
  }

  @BeforeEach
  void tree() throws Exception {
    repo = Files.createDirectories(dir.resolve("repo"));
    Files.copy(DEV, repo.resolve("dev"));
    Files.writeString(repo.resolve("pom.xml"), "<project/>\n");
    Files.createDirectories(repo.resolve("src"));
    Files.writeString(repo.resolve("src/Main.java"), "class Main {}\n");
    Files.writeString(repo.resolve(".gitignore"), "target/\n/data/\n");
    bin = Files.createDirectories(dir.resolve("bin"));
    calls = dir.resolve("calls.log");
    // a build prints a lot; the fake one too, and makes the jar (or fails when FAIL_BUILD is set)
    script("mvn", "echo \"mvn $*\" >> " + calls + "\n"
        + "for i in $(seq 1 200); do echo \"[INFO] compiling unit $i\"; done\n"
        + "if [ -n \"${FAIL_BUILD:-}\" ]; then echo '[ERROR] COMPILATION ERROR: Main.java:[1,1] oops'; exit 1; fi\n"
        + "mkdir -p platform/launcher/target && echo jar > platform/launcher/target/deepchat.jar\n");
    script("java", "echo \"java $*\" >> " + calls + "\necho \"node would start: $*\"\n");
    script("dpkg-query", "echo 'install ok installed'\n");
    run(List.of("git", "init", "-q", "."), Map.of());
  }

  @Test
  void upBuildsOnceIntoALogWithoutTestsAndSkipsTheBuildWhenNothingChanged() throws Exception {
    Run first = dev("up", "--http-port=9999");
    assertThat(first.exit()).as(first.err()).isZero();
    assertThat(first.out()).contains("log: target/dev-build.log").doesNotContain("compiling unit");
    assertThat(repo.resolve("target/dev-build.log")).content().contains("compiling unit 200");
    // the first start after a build records its classes when it stops; later starts map them
    assertThat(first.out().strip()).endsWith("node would start: -XX:ArchiveClassesAtExit=" + ARCHIVE
        + " -jar platform/launcher/target/deepchat.jar --http-port=9999");
    assertThat(mavenCalls()).containsExactly("mvn -B -ntp package -DskipTests");
    Files.writeString(repo.resolve(ARCHIVE), "classes"); // what the JVM writes at exit

    Run second = dev("up");
    assertThat(second.out()).contains("no source changed").doesNotContain("building");
    assertThat(second.out().strip()).endsWith("node would start: -XX:SharedArchiveFile=" + ARCHIVE
        + " -jar platform/launcher/target/deepchat.jar");
    assertThat(mavenCalls()).as("no second build").hasSize(1);

    Files.writeString(repo.resolve("src/Main.java"), "class Main { int changed; }\n");
    Run rebuilt = dev("up");
    assertThat(mavenCalls()).as("an edited source is built").hasSize(2);
    assertThat(rebuilt.out()).as("a new build records its classes anew").contains("-XX:ArchiveClassesAtExit=" + ARCHIVE);
    Files.writeString(repo.resolve("src/New.java"), "class New {}\n");
    dev("up");
    assertThat(mavenCalls()).as("a new source is built").hasSize(3);
  }

  @Test
  void aFailedBuildShowsTheTailOfItsLogAndStartsNothing() throws Exception {
    Run failed = dev(Map.of("FAIL_BUILD", "1"), "up");
    assertThat(failed.exit()).isEqualTo(1);
    assertThat(failed.err()).contains("COMPILATION ERROR: Main.java").contains("target/dev-build.log")
        .doesNotContain("compiling unit 100");
    assertThat(Files.readString(calls)).doesNotContain("java ");
    // the next try builds again: a failed build leaves no stamp
    dev("up");
    assertThat(mavenCalls()).hasSize(2);
  }

  @Test
  void resetPasswordRunsTheLaunchersCommand() throws Exception {
    Run reset = dev("reset-password", "demo", "admin@demo.local");
    assertThat(reset.exit()).as(reset.err()).isZero();
    assertThat(Files.readAllLines(calls)).last()
        .isEqualTo("java -jar platform/launcher/target/deepchat.jar reset-password demo admin@demo.local");
    assertThat(dev("reset-password", "demo").exit()).isEqualTo(2);
  }

  private List<String> mavenCalls() throws IOException {
    return Files.readAllLines(calls).stream().filter(l -> l.startsWith("mvn ")).toList();
  }

  private Run dev(String... args) throws Exception {
    return dev(Map.of(), args);
  }

  private Run dev(Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("bash", repo.resolve("dev").toString()));
    cmd.addAll(List.of(args));
    return run(cmd, env);
  }

  private Run run(List<String> cmd, Map<String, String> env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(repo.toFile());
    pb.environment().put("PATH", bin + ":" + pb.environment().get("PATH"));
    pb.environment().putAll(env);
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
  }

  private void script(String name, String body) throws IOException {
    Path file = bin.resolve(name);
    Files.writeString(file, "#!/usr/bin/env bash\n" + body);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
  }
}
