package ai.deepchat.datasets;

import ai.deepchat.canary.CanaryTestSupport;
import ai.deepchat.chat.api.ApiKeyAuth;
import ai.deepchat.gateway.GatewayVerticle;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.policy.audit.AuditLog;
import ai.deepchat.policy.privacy.VisitorDeletionModule;
import ai.deepchat.policy.ratelimit.LocalRateLimiter;
import ai.deepchat.policy.ratelimit.RequestLimits;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Datasets over real HTTP and PostgreSQL: examples built from seeded conversations with known feedback and
 * shadow pairs, reviewed, frozen and exported line for line; another tenant's ids are not found; erasing a
 * visitor removes its examples from the dataset and from frozen versions.
 */
@ExtendWith(VertxExtension.class)
class DatasetApiTest {

  static Database db;
  static WebClient http;
  static int port;

  @BeforeAll
  static void setUp(Vertx vertx) throws Exception {
    db = TestDatabase.fresh(vertx).database();
    Platform platform = CanaryTestSupport.platform(db, Map.of());
    RequestLimits limits = new RequestLimits(vertx, db, new LocalRateLimiter(Clock.systemUTC(), 1000));
    AuditLog audit = new AuditLog(db);
    GatewayVerticle gateway = new GatewayVerticle(platform, List.of(
        new DatasetApiModule(new ApiKeyAuth(db), limits, new DatasetStore(db, audit)),
        new VisitorDeletionModule(db, audit, limits)));
    await(vertx.deployVerticle(gateway));
    port = gateway.actualPort();
    http = WebClient.create(vertx);
  }

  @Test
  void buildsReviewsFreezesAndExportsExactLinesThenErasesTheVisitor() throws Exception {
    UUID tenant = CanaryTestSupport.createTenant(db, "ds-a");
    String key = CanaryTestSupport.apiKey(db, tenant);
    // visitor v1: a praised answer (thumbs up), then a disliked one; visitor v2: an answer nobody rated
    UUID c1 = conversation(tenant, "v1");
    message(tenant, c1, "user", "I am alice@example.com, how do I reset my password?", null, null, 50);
    message(tenant, c1, "assistant", "Use Settings > Security, or call 13812345678.", 1, "account", 49);
    message(tenant, c1, "user", "And my invoice?", null, null, 48);
    message(tenant, c1, "assistant", "No idea.", -1, "billing", 47);
    UUID c2 = conversation(tenant, "v2");
    message(tenant, c2, "user", "Do you ship abroad?", null, null, 40);
    message(tenant, c2, "assistant", "Yes, to 30 countries.", null, "shipping", 39);
    // shadow pairs: on the praised answer, on the disliked one, and on the unrated one
    shadow(tenant, c1, "how do I reset my password?", "Use Settings > Security, or call 13812345678.", "Ask IT.");
    shadow(tenant, c1, "And my invoice?", "No idea.", "Invoices are under Billing > History.");
    shadow(tenant, c2, "Do you ship abroad?", "Yes, to 30 countries.", "We ship worldwide.");

    JsonObject all = ok(201, call(key, HttpMethod.POST, "/v1/admin/datasets", new JsonObject().put("name", "all")));
    JsonObject praised = ok(201, call(key, HttpMethod.POST, "/v1/admin/datasets", new JsonObject().put("name", "praised")
        .put("filters", new JsonObject().put("positive_only", true))));
    String allId = all.getString("id");
    JsonObject builtAll = ok(200, call(key, HttpMethod.POST, "/v1/admin/datasets/" + allId + "/build", null));
    // the disliked answer is never an SFT example; every pair where the candidate differs is a preference pair
    assertThat(builtAll.getJsonObject("added").encode()).isEqualTo("{\"sft\":2,\"preference\":3}");
    JsonObject builtPraised = ok(200, call(key, HttpMethod.POST, "/v1/admin/datasets/" + praised.getString("id")
        + "/build", null));
    assertThat(builtPraised.getJsonObject("added").getInteger("sft")).isEqualTo(1);
    // building again adds nothing new
    assertThat(ok(200, call(key, HttpMethod.POST, "/v1/admin/datasets/" + allId + "/build", null))
        .getJsonObject("added").encode()).isEqualTo("{\"sft\":0,\"preference\":0}");

    JsonArray sft = examples(key, allId, "sft");
    JsonArray pairs = examples(key, allId, "preference");
    assertThat(sft).hasSize(2);
    assertThat(pairs).hasSize(3);
    // masked before storing: the user's e-mail and the answer's phone number
    assertThat(sft.getJsonObject(0).getJsonObject("content").encode()).isEqualTo("{\"messages\":["
        + "{\"role\":\"user\",\"content\":\"I am a***@example.com, how do I reset my password?\"},"
        + "{\"role\":\"assistant\",\"content\":\"Use Settings > Security, or call *******5678.\"}]}");
    // feedback chose two pairs: thumbs up keeps the shown answer, thumbs down prefers the candidate's
    assertThat(pairs.stream().map(p -> ((JsonObject) p).getString("chosen_by")).toList())
        .containsExactly("feedback", "feedback", null);
    assertThat(pairs.getJsonObject(1).getJsonObject("content").getJsonArray("preferred_output").getJsonObject(0)
        .getString("content")).isEqualTo("Invoices are under Billing > History.");

    // review: the first SFT example edited (the edit masked too) and accepted, the second rejected
    String base = "/v1/admin/datasets/" + allId + "/examples/";
    JsonObject edit = new JsonObject().put("messages", new JsonArray()
        .add(new JsonObject().put("role", "user").put("content", "How do I reset my password?"))
        .add(new JsonObject().put("role", "assistant").put("content", "Settings > Security > Reset; help@acme.example.")));
    JsonObject edited = ok(200, call(key, HttpMethod.PATCH, base + id(sft, 0),
        new JsonObject().put("status", "accepted").put("content", edit)));
    assertThat(edited.getJsonObject("original")).isEqualTo(sft.getJsonObject(0).getJsonObject("original"));
    assertThat(edited.getString("reviewed_by")).startsWith("apikey:");
    ok(200, call(key, HttpMethod.PATCH, base + id(sft, 1), new JsonObject().put("status", "rejected")));
    // pairs: the praised one accepted; the unrated one refused until a rater says which answer is better
    ok(200, call(key, HttpMethod.PATCH, base + id(pairs, 0), new JsonObject().put("status", "accepted")));
    assertThat(error(409, call(key, HttpMethod.PATCH, base + id(pairs, 2), new JsonObject().put("status", "accepted"))))
        .isEqualTo("not_chosen");
    JsonObject rated = ok(200, call(key, HttpMethod.PATCH, base + id(pairs, 2),
        new JsonObject().put("prefer", "non_preferred_output").put("status", "accepted")));
    assertThat(rated.getString("chosen_by")).isEqualTo("rater");
    ok(200, call(key, HttpMethod.PATCH, base + id(pairs, 1), new JsonObject().put("status", "rejected")));
    // bad edits are refused with the field named, and change nothing
    assertThat(error(400, call(key, HttpMethod.PATCH, base + id(sft, 1), new JsonObject().put("content",
        new JsonObject().put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "x")))))))
        .isEqualTo("invalid_value");
    assertThat(error(400, call(key, HttpMethod.PATCH, base + id(sft, 1), new JsonObject().put("prefer",
        "preferred_output")))).isEqualTo("invalid_value");

    JsonObject v1 = ok(201, call(key, HttpMethod.POST, "/v1/admin/datasets/" + allId + "/versions", null));
    assertThat(v1.getInteger("number")).isEqualTo(1);
    assertThat(v1.getInteger("sft_examples")).isEqualTo(1);
    assertThat(v1.getInteger("preference_pairs")).isEqualTo(2);
    // a later review does not change a frozen version
    ok(200, call(key, HttpMethod.PATCH, base + id(pairs, 0), new JsonObject().put("status", "rejected")));

    String sftFile = "/v1/admin/datasets/" + allId + "/versions/1/sft.jsonl";
    String prefFile = "/v1/admin/datasets/" + allId + "/versions/1/preference.jsonl";
    HttpResponse<Buffer> sftExport = call(key, HttpMethod.GET, sftFile, null);
    assertThat(sftExport.statusCode()).isEqualTo(200);
    assertThat(sftExport.getHeader("Content-Type")).startsWith("application/jsonl");
    assertThat(sftExport.bodyAsString()).isEqualTo("{\"messages\":[{\"role\":\"user\",\"content\":\"How do I reset my "
        + "password?\"},{\"role\":\"assistant\",\"content\":\"Settings > Security > Reset; h***@acme.example.\"}]}\n");
    assertThat(call(key, HttpMethod.GET, prefFile, null).bodyAsString()).isEqualTo(
        "{\"input\":{\"messages\":[{\"role\":\"user\",\"content\":\"I am a***@example.com, how do I reset my password?\"}]},"
            + "\"preferred_output\":[{\"role\":\"assistant\",\"content\":\"Use Settings > Security, or call *******5678.\"}],"
            + "\"non_preferred_output\":[{\"role\":\"assistant\",\"content\":\"Ask IT.\"}]}\n"
            + "{\"input\":{\"messages\":[{\"role\":\"user\",\"content\":\"Do you ship abroad?\"}]},"
            + "\"preferred_output\":[{\"role\":\"assistant\",\"content\":\"We ship worldwide.\"}],"
            + "\"non_preferred_output\":[{\"role\":\"assistant\",\"content\":\"Yes, to 30 countries.\"}]}\n");
    assertThat(error(404, call(key, HttpMethod.GET, "/v1/admin/datasets/" + allId + "/versions/2/sft.jsonl", null)))
        .isEqualTo("not_found");
    assertThat(audited(tenant, "dataset.version.exported")).isEqualTo(2);
    assertThat(audited(tenant, "dataset.example.reviewed")).isEqualTo(6);

    // erasure of visitor v1: its examples leave the dataset and the frozen version
    HttpResponse<Buffer> erased = call(key, HttpMethod.DELETE, "/v1/visitors/v1", null);
    assertThat(erased.statusCode()).as(erased.bodyAsString()).isEqualTo(200);
    // only visitor v2's examples are left
    assertThat(examples(key, allId, "sft").stream().map(e -> ((JsonObject) e).getString("conversation_id")))
        .containsExactly(c2.toString());
    assertThat(examples(key, allId, "preference").stream().map(e -> ((JsonObject) e).getString("conversation_id")))
        .containsExactly(c2.toString());
    HttpResponse<Buffer> emptied = call(key, HttpMethod.GET, sftFile, null);
    assertThat(emptied.statusCode()).isEqualTo(200);
    assertThat(emptied.body()).isNull();
    assertThat(call(key, HttpMethod.GET, prefFile, null).bodyAsString()).doesNotContain("password")
        .contains("We ship worldwide.");
    long left = await(db.inTenant(tenant, c -> c.preparedQuery("SELECT count(*) FROM dataset_examples e "
        + "JOIN conversations cv ON cv.id = e.conversation_id WHERE cv.visitor_id = 'v1'").execute(Tuple.tuple())
        .map(r -> r.iterator().next().getLong(0))));
    assertThat(left).isZero();
    // the shadow pairs of the visitor's conversations (their question and both answers) are gone too
    long shadows = await(db.inTenant(tenant, c -> c.preparedQuery("SELECT count(*) FROM shadow_answers "
        + "WHERE conversation_id = $1").execute(Tuple.of(c1)).map(r -> r.iterator().next().getLong(0))));
    assertThat(shadows).isZero();
  }

  @Test
  void anotherTenantsIdsAreNotFoundAndBadInputIsRefused() throws Exception {
    UUID a = CanaryTestSupport.createTenant(db, "ds-x");
    UUID b = CanaryTestSupport.createTenant(db, "ds-y");
    String keyA = CanaryTestSupport.apiKey(db, a);
    String keyB = CanaryTestSupport.apiKey(db, b);
    UUID c = conversation(a, "x1");
    message(a, c, "user", "Hello?", null, null, 10);
    message(a, c, "assistant", "Hi.", 1, null, 9);
    String id = ok(201, call(keyA, HttpMethod.POST, "/v1/admin/datasets", new JsonObject().put("name", "d"))).getString("id");
    ok(200, call(keyA, HttpMethod.POST, "/v1/admin/datasets/" + id + "/build", null));
    String example = id(examples(keyA, id, "sft"), 0);
    ok(201, call(keyA, HttpMethod.POST, "/v1/admin/datasets/" + id + "/versions", null));

    for (HttpMethod method : List.of(HttpMethod.GET, HttpMethod.DELETE)) {
      assertThat(error(404, call(keyB, method, "/v1/admin/datasets/" + id, null))).isEqualTo("not_found");
    }
    assertThat(error(404, call(keyB, HttpMethod.POST, "/v1/admin/datasets/" + id + "/build", null))).isEqualTo("not_found");
    assertThat(error(404, call(keyB, HttpMethod.GET, "/v1/admin/datasets/" + id + "/examples", null))).isEqualTo("not_found");
    assertThat(error(404, call(keyB, HttpMethod.PATCH, "/v1/admin/datasets/" + id + "/examples/" + example,
        new JsonObject().put("status", "accepted")))).isEqualTo("not_found");
    assertThat(error(404, call(keyB, HttpMethod.POST, "/v1/admin/datasets/" + id + "/versions", null))).isEqualTo("not_found");
    assertThat(error(404, call(keyB, HttpMethod.GET, "/v1/admin/datasets/" + id + "/versions/1/sft.jsonl", null)))
        .isEqualTo("not_found");
    assertThat(ok(200, call(keyB, HttpMethod.GET, "/v1/admin/datasets", null)).getJsonArray("data")).isEmpty();
    // B's own dataset cannot reach A's example either
    String idB = ok(201, call(keyB, HttpMethod.POST, "/v1/admin/datasets", new JsonObject().put("name", "d"))).getString("id");
    assertThat(error(404, call(keyB, HttpMethod.PATCH, "/v1/admin/datasets/" + idB + "/examples/" + example,
        new JsonObject().put("status", "accepted")))).isEqualTo("not_found");
    assertThat(examples(keyA, id, "sft").getJsonObject(0).getString("status")).isEqualTo("pending");

    assertThat(error(409, call(keyA, HttpMethod.POST, "/v1/admin/datasets", new JsonObject().put("name", "d"))))
        .isEqualTo("name_taken");
    for (JsonObject bad : List.of(new JsonObject(), new JsonObject().put("name", "e").put("colour", "red"),
        new JsonObject().put("name", "e").put("filters", new JsonObject().put("from", "yesterday")),
        new JsonObject().put("name", "e").put("filters", new JsonObject().put("min_rating", 0)),
        new JsonObject().put("name", "e").put("filters", new JsonObject().put("min_rating", 6)),
        new JsonObject().put("name", "e").put("filters", new JsonObject().put("min_rating", 4.5)),
        new JsonObject().put("name", "e").put("filters", new JsonObject().put("min_rating", "4")))) {
      assertThat(error(400, call(keyA, HttpMethod.POST, "/v1/admin/datasets", bad))).as(bad.encode())
          .isEqualTo("invalid_value");
    }
    assertThat(error(400, call(keyA, HttpMethod.GET, "/v1/admin/datasets/" + id + "/examples?status=done", null)))
        .isEqualTo("invalid_value");
    assertThat(call(null, HttpMethod.GET, "/v1/admin/datasets", null).statusCode()).isEqualTo(401);
  }

  @Test
  void minRatingTakesSftExamplesOnlyFromConversationsRatedAtLeastThatHigh() throws Exception {
    UUID tenant = CanaryTestSupport.createTenant(db, "ds-r");
    String key = CanaryTestSupport.apiKey(db, tenant);
    UUID happy = conversation(tenant, "r1");
    message(tenant, happy, "user", "Where is my parcel?", null, null, 30);
    message(tenant, happy, "assistant", "On its way, arriving Tuesday.", null, null, 29);
    CanaryTestSupport.rate(db, tenant, happy, 5, 20);
    UUID unhappy = conversation(tenant, "r2");
    message(tenant, unhappy, "user", "Can I pay by card?", null, null, 30);
    message(tenant, unhappy, "assistant", "Perhaps.", null, null, 29);
    CanaryTestSupport.rate(db, tenant, unhappy, 2, 20);
    // rated 5 first, then 3 after a second handoff: the latest rating counts
    UUID changed = conversation(tenant, "r3");
    message(tenant, changed, "user", "Opening hours?", null, null, 30);
    message(tenant, changed, "assistant", "9 to 5.", null, null, 29);
    CanaryTestSupport.rate(db, tenant, changed, 5, 20);
    CanaryTestSupport.rate(db, tenant, changed, 3, 10);
    UUID unrated = conversation(tenant, "r4");
    message(tenant, unrated, "user", "Hello?", null, null, 30);
    message(tenant, unrated, "assistant", "Hi, how can I help?", null, null, 29);

    JsonObject created = ok(201, call(key, HttpMethod.POST, "/v1/admin/datasets", new JsonObject().put("name", "rated")
        .put("filters", new JsonObject().put("min_rating", 4))));
    assertThat(created.getJsonObject("filters").getInteger("min_rating")).isEqualTo(4);
    String id = created.getString("id");
    assertThat(ok(200, call(key, HttpMethod.POST, "/v1/admin/datasets/" + id + "/build", null))
        .getJsonObject("added").getInteger("sft")).isEqualTo(1);
    JsonArray sft = examples(key, id, "sft");
    assertThat(sft.getJsonObject(0).getString("conversation_id")).isEqualTo(happy.toString());
    // min_rating 3 adds the re-rated conversation; without the filter every answer is taken
    String three = ok(201, call(key, HttpMethod.POST, "/v1/admin/datasets", new JsonObject().put("name", "three")
        .put("filters", new JsonObject().put("min_rating", 3)))).getString("id");
    assertThat(ok(200, call(key, HttpMethod.POST, "/v1/admin/datasets/" + three + "/build", null))
        .getJsonObject("added").getInteger("sft")).isEqualTo(2);
    String any = ok(201, call(key, HttpMethod.POST, "/v1/admin/datasets", new JsonObject().put("name", "any")))
        .getString("id");
    assertThat(ok(200, call(key, HttpMethod.POST, "/v1/admin/datasets/" + any + "/build", null))
        .getJsonObject("added").getInteger("sft")).isEqualTo(4);
  }

  @Test
  void agentsRepliesInHandedOffConversationsBecomeMaskedSftExamplesWithoutNotes() throws Exception {
    UUID tenant = CanaryTestSupport.createTenant(db, "ds-h");
    String key = CanaryTestSupport.apiKey(db, tenant);
    UUID c = conversation(tenant, "h1");
    message(tenant, c, "user", "My order never came.", null, "orders", 30);
    message(tenant, c, "assistant", "Let me get a person for you.", -1, "orders", 29);
    staff(tenant, c, "note", "Customer is angry, VIP account bob@corp.example", 28);
    message(tenant, c, "user", "I am bob@corp.example, order 42.", null, null, 27);
    staff(tenant, c, "agent", "Sorry Bob, order 42 is resent today; tracking goes to bob@corp.example.", 26);
    message(tenant, c, "user", "Thanks!", null, null, 25);
    staff(tenant, c, "agent", "You're welcome.", 24);

    String id = ok(201, call(key, HttpMethod.POST, "/v1/admin/datasets", new JsonObject().put("name", "agents")))
        .getString("id");
    assertThat(ok(200, call(key, HttpMethod.POST, "/v1/admin/datasets/" + id + "/build", null))
        .getJsonObject("added").getInteger("sft")).isEqualTo(2);
    JsonArray sft = examples(key, id, "sft");
    // the disliked bot answer is left out of the examples but stays in the context; the note never appears
    assertThat(sft.getJsonObject(0).getJsonObject("content").encode()).isEqualTo("{\"messages\":["
        + "{\"role\":\"user\",\"content\":\"My order never came.\"},"
        + "{\"role\":\"assistant\",\"content\":\"Let me get a person for you.\"},"
        + "{\"role\":\"user\",\"content\":\"I am b***@corp.example, order 42.\"},"
        + "{\"role\":\"assistant\",\"content\":\"Sorry Bob, order 42 is resent today; tracking goes to "
        + "b***@corp.example.\"}]}");
    JsonArray second = sft.getJsonObject(1).getJsonObject("content").getJsonArray("messages");
    assertThat(second).hasSize(6);
    assertThat(second.getJsonObject(5).getString("content")).isEqualTo("You're welcome.");
    assertThat(second.getJsonObject(3).getString("role")).isEqualTo("assistant");
    assertThat(sft.encode()).doesNotContain("angry");
    assertThat(ok(200, call(key, HttpMethod.POST, "/v1/admin/datasets/" + id + "/build", null))
        .getJsonObject("added").getInteger("sft")).isZero();
    // agents' replies carry no intent and no thumbs: an intent or positive-only dataset takes none of them
    for (JsonObject filters : List.of(new JsonObject().put("intent", "orders"), new JsonObject().put("positive_only", true))) {
      String other = ok(201, call(key, HttpMethod.POST, "/v1/admin/datasets", new JsonObject()
          .put("name", filters.encode()).put("filters", filters))).getString("id");
      assertThat(ok(200, call(key, HttpMethod.POST, "/v1/admin/datasets/" + other + "/build", null))
          .getJsonObject("added").getInteger("sft")).as(filters.encode()).isZero();
    }
  }

  @Test
  void faqAnswersBecomeExamplesPerQuestionVariantFollowingEditsAndErasure() throws Exception {
    UUID tenant = CanaryTestSupport.createTenant(db, "ds-f");
    String key = CanaryTestSupport.apiKey(db, tenant);
    UUID faq = faqEntry(tenant, "How do I reset my password?", "Open Settings > Security > Reset.", true);
    UUID off = faqEntry(tenant, "Do you sell gift cards?", "Not yet.", false);
    // visitors' phrasings the FAQ answered (one twice, one the FAQ's own question again); one the disabled entry did
    UUID c1 = conversation(tenant, "f1");
    faqTurn(tenant, c1, "pwd reset pls, I am bob@example.com", faq, 30);
    UUID c2 = conversation(tenant, "f2");
    faqTurn(tenant, c2, "forgot my password", faq, 20);
    faqTurn(tenant, c2, "Forgot my password ", faq, 19);
    faqTurn(tenant, c2, "how do I reset my password?", faq, 18);
    faqTurn(tenant, c2, "gift cards?", off, 17);

    String id = ok(201, call(key, HttpMethod.POST, "/v1/admin/datasets", new JsonObject().put("name", "faq")
        .put("filters", new JsonObject().put("sources", new JsonArray().add("faq"))))).getString("id");
    JsonObject built = ok(200, call(key, HttpMethod.POST, "/v1/admin/datasets/" + id + "/build", null));
    assertThat(built.getJsonObject("added").encode()).isEqualTo("{\"sft\":3,\"preference\":0}");
    assertThat(built.getJsonObject("filters").getJsonArray("sources")).containsExactly("faq");
    JsonArray sft = sourceExamples(key, id, "faq");
    assertThat(sft.stream().map(e -> ((JsonObject) e).getJsonObject("content").encode()).toList()).containsExactly(
        "{\"messages\":[{\"role\":\"user\",\"content\":\"How do I reset my password?\"},"
            + "{\"role\":\"assistant\",\"content\":\"Open Settings > Security > Reset.\"}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"pwd reset pls, I am b***@example.com\"},"
            + "{\"role\":\"assistant\",\"content\":\"Open Settings > Security > Reset.\"}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"forgot my password\"},"
            + "{\"role\":\"assistant\",\"content\":\"Open Settings > Security > Reset.\"}]}");
    // the entry's own question belongs to no visitor; a visitor's phrasing keeps its conversation
    assertThat(sft.getJsonObject(0).getString("conversation_id")).isNull();
    assertThat(sft.getJsonObject(1).getString("conversation_id")).isEqualTo(c1.toString());
    assertThat(sft.getJsonObject(0).getString("source")).isEqualTo("faq");
    // a dataset of the assistant's answers only takes none of them as FAQ examples
    String answers = ok(201, call(key, HttpMethod.POST, "/v1/admin/datasets", new JsonObject().put("name", "answers")
        .put("filters", new JsonObject().put("sources", new JsonArray().add("answers"))))).getString("id");
    ok(200, call(key, HttpMethod.POST, "/v1/admin/datasets/" + answers + "/build", null));
    assertThat(sourceExamples(key, answers, "faq")).isEmpty();
    assertThat(sourceExamples(key, answers, "answers")).hasSize(5);

    // a reviewer accepts the visitor f1 example; then staff edit the answer: building again teaches the new
    // answer to every variant and rejects the pending examples of the old one (the accepted one stays)
    ok(200, call(key, HttpMethod.PATCH, "/v1/admin/datasets/" + id + "/examples/" + id(sft, 1),
        new JsonObject().put("status", "accepted")));
    await(db.inTenant(tenant, c -> c.preparedQuery("UPDATE faq_entries SET answer = $2, updated_at = now() WHERE id = $1")
        .execute(Tuple.of(faq, "Settings > Security > Reset password; support@acme.example helps."))));
    JsonObject rebuilt = ok(200, call(key, HttpMethod.POST, "/v1/admin/datasets/" + id + "/build", null));
    assertThat(rebuilt.getJsonObject("added").getInteger("sft")).isEqualTo(3);
    assertThat(rebuilt.getInteger("faq_superseded")).isEqualTo(2);
    JsonArray after = sourceExamples(key, id, "faq");
    assertThat(after.stream().map(e -> ((JsonObject) e).getString("status")).toList())
        .containsExactly("rejected", "accepted", "rejected", "pending", "pending", "pending");
    assertThat(after.getJsonObject(3).getJsonObject("content").getJsonArray("messages").getJsonObject(1)
        .getString("content")).isEqualTo("Settings > Security > Reset password; s***@acme.example helps.");
    assertThat(ok(200, call(key, HttpMethod.POST, "/v1/admin/datasets/" + id + "/build", null))
        .getJsonObject("added").getInteger("sft")).isZero();

    // erasing visitor f1 removes both of its examples; the entry's own question and f2's stay
    assertThat(call(key, HttpMethod.DELETE, "/v1/visitors/f1", null).statusCode()).isEqualTo(200);
    JsonArray left = sourceExamples(key, id, "faq");
    assertThat(left).hasSize(4);
    assertThat(left.encode()).doesNotContain("pwd reset").doesNotContain(c1.toString());

    assertThat(error(400, call(key, HttpMethod.POST, "/v1/admin/datasets", new JsonObject().put("name", "x")
        .put("filters", new JsonObject().put("sources", new JsonArray().add("faq").add("wiki")))))).isEqualTo("invalid_value");
    assertThat(error(400, call(key, HttpMethod.POST, "/v1/admin/datasets", new JsonObject().put("name", "x")
        .put("filters", new JsonObject().put("sources", new JsonArray()))))).isEqualTo("invalid_value");
    assertThat(error(400, call(key, HttpMethod.GET, "/v1/admin/datasets/" + id + "/examples?source=wiki", null)))
        .isEqualTo("invalid_value");
  }

  private static UUID faqEntry(UUID tenant, String question, String answer, boolean enabled) throws Exception {
    return await(db.inTenant(tenant, c -> c.preparedQuery("INSERT INTO faq_entries (tenant_id, question, answer, enabled) "
            + "VALUES (app_tenant(), $1, $2, $3) RETURNING id").execute(Tuple.of(question, answer, enabled))
        .map(r -> r.iterator().next().getUUID(0))));
  }

  /** A visitor's question and the FAQ entry's answer to it, stored as the pipeline stores an FAQ answer. */
  private static void faqTurn(UUID tenant, UUID conversation, String question, UUID faq, int minutesAgo) throws Exception {
    await(db.inTenant(tenant, c -> c.preparedQuery("WITH q AS (INSERT INTO messages (tenant_id, conversation_id, role, "
            + "content, created_at) VALUES (app_tenant(), $1, 'user', $2, now() - make_interval(mins => $4)) RETURNING id) "
            + "INSERT INTO messages (tenant_id, conversation_id, role, content, intent, reply_to, faq_entry_id, created_at) "
            + "SELECT app_tenant(), $1, 'assistant', f.answer, 'faq', q.id, f.id, now() - make_interval(mins => $4) "
            + "+ interval '1 second' FROM q, faq_entries f WHERE f.id = $3")
        .execute(Tuple.of(conversation, question, faq, minutesAgo))));
  }

  private static JsonArray sourceExamples(String key, String dataset, String source) throws Exception {
    return ok(200, call(key, HttpMethod.GET, "/v1/admin/datasets/" + dataset + "/examples?source=" + source, null))
        .getJsonArray("data");
  }

  private static void staff(UUID tenant, UUID conversation, String kind, String text, int minutesAgo) throws Exception {
    await(db.inTenant(tenant, c -> c.preparedQuery("INSERT INTO handoff_messages (tenant_id, conversation_id, kind, text, "
            + "client_id, created_at) VALUES (app_tenant(), $1, $2, $3, gen_random_uuid()::text, "
            + "now() - make_interval(mins => $4))")
        .execute(Tuple.of(conversation, kind, text, minutesAgo))));
  }


  private static UUID conversation(UUID tenant, String visitor) throws Exception {
    return await(db.inTenant(tenant, c -> c.preparedQuery("INSERT INTO conversations (tenant_id, visitor_id, channel) "
        + "VALUES (app_tenant(), $1, 'widget') RETURNING id").execute(Tuple.of(visitor))
        .map(r -> r.iterator().next().getUUID(0))));
  }

  private static void message(UUID tenant, UUID conversation, String role, String content, Integer feedback,
                              String intent, int minutesAgo) throws Exception {
    await(db.inTenant(tenant, c -> c.preparedQuery("INSERT INTO messages (tenant_id, conversation_id, role, content, "
            + "feedback, intent, created_at) VALUES (app_tenant(), $1, $2, $3, $4, $5, now() - make_interval(mins => $6))")
        .execute(Tuple.of(conversation, role, content, feedback, intent, minutesAgo))));
  }

  private static void shadow(UUID tenant, UUID conversation, String prompt, String stable, String candidate)
      throws Exception {
    await(db.inTenant(tenant, c -> c.preparedQuery("INSERT INTO shadow_answers (tenant_id, rollout_id, conversation_id, "
            + "stable_version_id, candidate_version_id, prompt, stable_answer, candidate_answer, agreed) "
            + "VALUES (app_tenant(), gen_random_uuid(), $1, gen_random_uuid(), gen_random_uuid(), $2, $3, $4, false)")
        .execute(Tuple.of(conversation, prompt, stable, candidate))));
  }

  private static HttpResponse<Buffer> call(String key, HttpMethod method, String path, JsonObject body) throws Exception {
    var req = http.request(method, port, "127.0.0.1", path);
    if (key != null) {
      req.putHeader("Authorization", "Bearer " + key);
    }
    return await(body == null ? req.send() : req.sendJsonObject(body));
  }

  private static JsonArray examples(String key, String dataset, String kind) throws Exception {
    return ok(200, call(key, HttpMethod.GET, "/v1/admin/datasets/" + dataset + "/examples?kind=" + kind, null))
        .getJsonArray("data");
  }

  private static String id(JsonArray list, int i) {
    return list.getJsonObject(i).getString("id");
  }

  private static JsonObject ok(int status, HttpResponse<Buffer> response) {
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(status);
    return response.bodyAsJsonObject();
  }

  private static String error(int status, HttpResponse<Buffer> response) {
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(status);
    return response.bodyAsJsonObject().getJsonObject("error").getString("code");
  }

  private static long audited(UUID tenant, String action) throws Exception {
    return await(db.inTenant(tenant, c -> c.preparedQuery("SELECT count(*) FROM audit_log WHERE action = $1")
        .execute(Tuple.of(action)).map(r -> r.iterator().next().getLong(0))));
  }
}
