package ai.deepchat.chat.conversation;

import ai.deepchat.chat.dispatch.ModelChoice;
import ai.deepchat.chat.dispatch.ModelStep;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.core.Future;

/** For begin tests: a model choice the node's copies made, so the begin needs no statement for it. */
final class HeldChoice {

  static final ModelChoice MODEL = new ModelChoice(null, "m", null, null, 4096, true, null, false);

  static final ModelStep HELD = new ModelStep() {
    @Override
    public Future<ModelChoice> apply(SqlConnection c) {
      return Future.succeededFuture(MODEL);
    }

    @Override
    public ModelChoice withoutStatements() {
      return MODEL;
    }
  };

  private HeldChoice() {
  }
}
