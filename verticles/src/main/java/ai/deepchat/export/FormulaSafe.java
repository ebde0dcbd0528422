package ai.deepchat.export;

/**
 * CSV cells a spreadsheet would run as a formula (OWASP "CSV injection"): a cell beginning with
 * {@code = + - @}, a tab or a carriage return is written behind an apostrophe.
 */
public final class FormulaSafe {

  /** The characters that make a spreadsheet read a cell as a formula. */
  public static final String TRIGGERS = "=+-@\t\r";

  private FormulaSafe() {
  }

  public static String cell(String text) {
    return text != null && !text.isEmpty() && TRIGGERS.indexOf(text.charAt(0)) >= 0 ? "'" + text : text;
  }
}
