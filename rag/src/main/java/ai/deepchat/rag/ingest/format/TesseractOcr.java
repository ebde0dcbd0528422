package ai.deepchat.rag.ingest.format;

import ai.deepchat.rag.ingest.ParseDeadline;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * OCR of scanned pages through the {@code tesseract} command of Debian's tesseract-ocr, with its
 * Simplified Chinese and English models ({@code ./dev} installs them). One process per page reads the
 * PNG on stdin and writes text on stdout, on one thread ({@code OMP_THREAD_LIMIT=1}) so a scan does not
 * take every core from the node; it is killed when the document's parse budget runs out.
 */
final class TesseractOcr {

  static final String LANGUAGES = "chi_sim+eng";
  static final TesseractOcr DEFAULT = new TesseractOcr("tesseract");
  // tesseract separates Chinese characters by spaces; Chinese has none
  private static final Pattern CJK_GAP = Pattern.compile("(?<=[\\p{IsHan}，。；：！？、])\\s+(?=[\\p{IsHan}，。；：！？、])");

  private static final ScheduledExecutorService KILLER = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread thread = new Thread(r, "ocr-deadline");
    thread.setDaemon(true);
    return thread;
  });

  private final String command;
  private volatile Boolean available;

  TesseractOcr(String command) {
    this.command = command;
  }

  /** Whether the command runs and has both language models; asked once. */
  boolean available() {
    Boolean known = available;
    if (known == null) {
      known = probe();
      available = known;
    }
    return known;
  }

  private boolean probe() {
    try {
      Process process = new ProcessBuilder(command, "--list-langs").redirectErrorStream(true).start();
      String langs = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      return process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0
          && langs.lines().map(String::strip).toList().containsAll(List.of("chi_sim", "eng"));
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The text of one page image. */
  String recognize(BufferedImage page, ParseDeadline deadline) throws IOException {
    deadline.check();
    ProcessBuilder builder = new ProcessBuilder(command, "stdin", "stdout", "-l", LANGUAGES, "--psm", "3")
        .redirectError(ProcessBuilder.Redirect.DISCARD);
    builder.environment().put("OMP_THREAD_LIMIT", "1");
    Process process = builder.start();
    // killed at the deadline, which ends the blocking reads and writes below
    ScheduledFuture<?> kill = KILLER.schedule(process::destroyForcibly, Math.max(1, deadline.remainingNanos()),
        TimeUnit.NANOSECONDS);
    try {
      byte[] text;
      try (OutputStream in = process.getOutputStream(); InputStream out = process.getInputStream()) {
        ImageIO.write(page, "png", in);
        in.close();
        text = out.readAllBytes();
      }
      int status = process.waitFor();
      deadline.check();
      if (status != 0) {
        throw new IOException("tesseract failed with exit status " + status);
      }
      return CJK_GAP.matcher(new String(text, StandardCharsets.UTF_8)).replaceAll("");
    } catch (IOException e) {
      deadline.check(); // a pipe broken by the kill is the deadline's doing
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while reading a scanned page", e);
    } finally {
      kill.cancel(false);
      process.destroyForcibly();
    }
  }
}
