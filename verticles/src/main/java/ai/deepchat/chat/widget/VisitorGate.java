package ai.deepchat.chat.widget;

import ai.deepchat.platform.db.Database;
import io.vertx.core.Future;

/**
 * From a visitor token to an admitted visitor: the signature and claims (no I/O), then one query for
 * the tenant's widget, which also says whether the token's widget key is still current and whether the
 * visitor was erased. Either ends the token: 401, like a forged one.
 */
final class VisitorGate {

  record Admitted(VisitorTokens.Visitor visitor, WidgetSettings settings) {
  }

  private final VisitorTokens tokens;
  private final Database db;

  VisitorGate(VisitorTokens tokens, Database db) {
    this.tokens = tokens;
    this.db = db;
  }

  Future<Admitted> admit(String token) {
    return tokens.verify(token).compose(v -> WidgetSettings.forVisitor(db, v).map(s -> new Admitted(v, s)));
  }
}
