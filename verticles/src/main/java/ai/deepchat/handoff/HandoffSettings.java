package ai.deepchat.handoff;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

/**
 * A tenant's handoff settings ({@code handoff_settings}; a tenant without a row has the defaults):
 * how the queue is assigned ({@code round_robin}: to the least busy online agent under the cap, the
 * longest unassigned first; {@code pick}: agents claim), the per-agent cap of open conversations, and the
 * business hours.
 */
record HandoffSettings(String assignment, int cap, BusinessHours hours) {

  public static final String ROUND_ROBIN = "round_robin";
  public static final String PICK = "pick";
  public static final HandoffSettings DEFAULTS = new HandoffSettings(ROUND_ROBIN, 5, BusinessHours.ALWAYS);

  public boolean roundRobin() {
    return ROUND_ROBIN.equals(assignment);
  }

  /** Reads the settings in the caller's tenant transaction. */
  static Future<HandoffSettings> load(SqlConnection c) {
    return c.query("SELECT assignment, agent_cap, time_zone, business_hours FROM handoff_settings").execute()
        .map(rows -> rows.size() == 0 ? DEFAULTS : of(rows.iterator().next()));
  }

  private static HandoffSettings of(Row r) {
    Object hours = r.getValue("business_hours");
    return new HandoffSettings(r.getString("assignment"), r.getInteger("agent_cap"),
        BusinessHours.parse(r.getString("time_zone"), hours instanceof JsonObject o ? o : null));
  }

  /** Validates a console body ({assignment, cap, time_zone, business_hours}); absent fields keep {@code current}. */
  public static HandoffSettings parse(JsonObject body, HandoffSettings current) {
    String assignment = current.assignment();
    if (body.containsKey("assignment")) {
      Object a = body.getValue("assignment");
      if (!ROUND_ROBIN.equals(a) && !PICK.equals(a)) {
        throw HandoffException.badRequest("invalid_assignment", "'assignment' must be \"round_robin\" or \"pick\".");
      }
      assignment = (String) a;
    }
    int cap = current.cap();
    if (body.containsKey("cap")) {
      if (!(body.getValue("cap") instanceof Integer c) || c < 1 || c > 100) {
        throw HandoffException.badRequest("invalid_cap", "'cap' must be an integer from 1 to 100.");
      }
      cap = c;
    }
    String zone = current.hours().zone().getId();
    if (body.containsKey("time_zone")) {
      if (!(body.getValue("time_zone") instanceof String z)) {
        throw HandoffException.badRequest("invalid_time_zone", "'time_zone' must be a string.");
      }
      zone = z;
    }
    JsonObject hours = current.hours().toJson();
    if (body.containsKey("business_hours")) {
      Object h = body.getValue("business_hours");
      if (h != null && !(h instanceof JsonObject)) {
        throw HandoffException.badRequest("invalid_business_hours", "'business_hours' must be an object or null.");
      }
      hours = (JsonObject) h;
    }
    return new HandoffSettings(assignment, cap, BusinessHours.parse(zone, hours));
  }

  Future<Void> save(SqlConnection c) {
    JsonObject hoursJson = hours.toJson();
    return c.preparedQuery("INSERT INTO handoff_settings (tenant_id, assignment, agent_cap, time_zone, business_hours) "
            + "VALUES (app_tenant(), $1, $2, $3, $4) ON CONFLICT (tenant_id) DO UPDATE SET assignment = $1, "
            + "agent_cap = $2, time_zone = $3, business_hours = $4, updated_at = now()")
        .execute(Tuple.of(assignment, cap, hours.zone().getId(), hoursJson)).mapEmpty();
  }

  public JsonObject toJson() {
    return new JsonObject().put("assignment", assignment).put("cap", cap)
        .put("time_zone", hours.zone().getId()).put("business_hours", hours.toJson());
  }
}
