package ai.deepchat.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/** One generated request: what it tests ({@code mutation}), and what goes on the wire. */
record FuzzRequest(OpenApiDescription.Operation operation, String mutation, String uri, Map<String, String> headers,
                   byte[] body) {

  /** For failure reports: enough to replay the request by hand. */
  String describe() {
    String b = body == null ? "" : new String(body, StandardCharsets.UTF_8);
    return operation + " [" + mutation + "] " + uri + " " + headers.keySet() + " "
        + (b.length() > 300 ? b.substring(0, 300) + "...(" + b.length() + " chars)" : b);
  }
}
