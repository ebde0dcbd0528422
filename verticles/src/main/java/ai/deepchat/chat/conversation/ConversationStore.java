package ai.deepchat.chat.conversation;

import ai.deepchat.chat.dispatch.ModelChoice;
import ai.deepchat.chat.dispatch.ModelStep;
import ai.deepchat.chat.dispatch.TokenCounter;
import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.chat.ChatMessages;
import ai.deepchat.platform.chat.ChatMessages.Citation;
import ai.deepchat.platform.chat.ChatMessages.TurnRequest;
import ai.deepchat.platform.chat.TurnTrace;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.KnownAbsent;
import ai.deepchat.platform.db.SqlStates;
import ai.deepchat.platform.db.TenantValues;
import ai.deepchat.policy.privacy.PiiMasker;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.ToolCall;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import java.util.function.BiFunction;
import java.util.function.Function;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.UUID;

/**
 * Conversations and messages in PostgreSQL, with personal data (phone numbers, e-mail addresses, ID
 * and card numbers) masked before any text is stored. A turn is begun in one transaction (validation,
 * idempotency check, conversation, the user message and the assistant row in status 'streaming') before
 * it is acknowledged, so an acknowledged turn is never lost and a rejected one leaves nothing behind.
 * An answer known before the turn began (an FAQ's, {@link KnownAnswer}) is stored complete in that same
 * transaction; any other answer is finished later, in a transaction of its own.
 * The writes are V56's {@code begin_turn}; a common turn's begin is that one statement alone. Both lone
 * statements, a common turn's begin and every finish, are group-committed with the same tenant's turns
 * beginning or finishing meanwhile on this event loop ({@link GroupCommits}).
 */
final class ConversationStore {

  /** How long a 'streaming' answer may go without progress before a retry may take it over. */
  static final String STALE_AFTER = "2 minutes";
  private static final int HISTORY_LIMIT = 200;
  record Settings(String systemPrompt, int maxMessageChars, JsonObject extra) {
  }

  /** A stored answer found by idempotency key. */
  record StoredAnswer(String content, String reasoning, List<Citation> citations, String intent,
                      Usage usage, String finishReason, List<ToolCall> toolCalls) {
  }

  /**
   * A begun turn: ids, the tenant's settings, earlier turns (widget), a stored answer to replay, the
   * model version chosen in the same transaction, and {@code stored}: the answer known before the turn
   * began, when it was stored complete in that same transaction (null: the turn's answer is still to come).
   */
  record Begun(UUID conversationId, UUID userMessageId, UUID assistantMessageId, Settings settings,
               List<ChatMessage> history, StoredAnswer replay, SamplingParams sampling, ModelChoice model,
               KnownAnswer stored) {

    Begun(UUID conversationId, UUID userMessageId, UUID assistantMessageId, Settings settings,
          List<ChatMessage> history, StoredAnswer replay, SamplingParams sampling) {
      this(conversationId, userMessageId, assistantMessageId, settings, history, replay, sampling, null, null);
    }
  }

  /**
   * A turn's end: V55's {@code finish_answer} (answer and conversation in one statement, both updates always
   * run; the function holds the statement's only copy). Its first parameter is the tenant, which it sets
   * itself: alone it is its own transaction ({@link GroupCommits}: no BEGIN, tenant setting or COMMIT), and
   * inside the tenant's own transaction it is one more statement of it.
   */
  private static final String FINISH = "SELECT finish_answer($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
      + "$12, $13, $14, $15, $16, $17)";

  private final WorkerExecutor tokenizer;
  private final Database db;
  private final TokenCounter tokens;
  private final GroupCommits begins;
  private final GroupCommits finishes;

  /**
   * {@code tokenizer}: the node's tokenizer pool, where message tokens are counted. Create it on the
   * event loop that uses it: turns beginning (or finishing) there are committed together ({@link GroupCommits}).
   */
  ConversationStore(Vertx vertx, WorkerExecutor tokenizer, Database db, TokenCounter tokens) {
    this.tokenizer = tokenizer;
    this.db = db;
    this.tokens = tokens;
    this.begins = new GroupCommits(vertx, db, BEGIN_TURN);
    this.finishes = new GroupCommits(vertx, db, FINISH);
  }

  /**
   * {@code choice}: the model version, chosen as the transaction's first step (one transaction per turn
   * less than choosing apart); {@code tenantSampling}: sampling from the chosen version and the tenant's
   * settings JSON, for turns that bring none (widget).
   */
  Future<Begun> begin(UUID tenantId, TurnRequest req, UUID conversationId, ModelStep choice,
                      BiFunction<ModelChoice, JsonObject, SamplingParams> tenantSampling) {
    return begin(tenantId, req, conversationId, choice, tenantSampling, null);
  }

  /**
   * As above; {@code known} (null: none) is the answer known before the turn began (an FAQ's): a new turn
   * whose answer it may be (not a retry of a stored one, no form to keep) is stored whole in the same
   * transaction, the answer row complete as its finish would leave it ({@link Begun#stored}). A failure
   * to store it fails the whole transaction, so nothing of the turn is kept.
   *
   * <p>Where the node's copies hold the tenant's settings and make the model choice, and no answer is known,
   * the checks and the token count come first and the writes are one statement on their own (V56's
   * {@code begin_turn}, its own transaction, group-committed with the tenant's turns beginning meanwhile on
   * this loop): no BEGIN, tenant setting, lookup or COMMIT. Otherwise, and for a
   * retry (the key is in use: that call wrote nothing), the turn begins in a transaction as it always did.
   */
  Future<Begun> begin(UUID tenantId, TurnRequest req, UUID conversationId, ModelStep choice,
                      BiFunction<ModelChoice, JsonObject, SamplingParams> tenantSampling, KnownAnswer known) {
    Settings held = known == null && db.chatSettings().get(tenantId) instanceof Settings s ? s : null;
    ModelChoice chosen = held != null ? choice.withoutStatements() : null;
    Future<Begun> begun = chosen != null
        ? prepare(tenantId, req, chosen, held, tenantSampling).compose(p -> alone(tenantId, req, conversationId, p))
        : inTransaction(tenantId, req, conversationId, choice, tenantSampling, known);
    return begun.recover(err -> {
      if (SqlStates.isUniqueViolation(err)) {
        return Future.failedFuture(BusFailure.TURN_IN_PROGRESS.exception(
            "A request with this idempotency key is being processed."));
      }
      return Future.failedFuture(err);
    });
  }

  /** What the Java before a turn's writes decided: the version, the settings and the sampling, all checked. */
  private record Prepared(ModelChoice model, Settings settings, SamplingParams sampling) {
  }

  /** The message limits, the sampling, the token count (on the tokenizer pool) and the context check. */
  private Future<Prepared> prepare(UUID tenantId, TurnRequest req, ModelChoice model, Settings settings,
                                   BiFunction<ModelChoice, JsonObject, SamplingParams> tenantSampling) {
    List<ChatMessage> msgs = req.messages();
    for (ChatMessage m : msgs) {
      int chars = m.content().codePointCount(0, m.content().length());
      if (chars > settings.maxMessageChars()) {
        return Future.failedFuture(BusFailure.MESSAGE_TOO_LONG.exception("A message has " + chars
            + " characters; this workspace allows at most " + settings.maxMessageChars() + "."));
      }
    }
    SamplingParams sampling = req.sampling() != null ? req.sampling() : tenantSampling.apply(model, settings.extra());
    // tokenizers are native code: count on the tokenizer pool; the prompt counts these texts again (remembered)
    TokenCounter counts = tokens.forTenant(tenantId);
    return tokenizer.executeBlocking(() -> pinnedTokens(counts, settings, msgs) + counts.countTools(req.tools()), false)
        .compose(pinned -> {
          int maxTokens = sampling.maxTokens();
          if (pinned + maxTokens > model.contextTokens()) {
            return Future.failedFuture(BusFailure.CONTEXT_TOO_LONG.exception("This model's context is "
                + model.contextTokens() + " tokens; the prompt needs about " + pinned + " and max_tokens asks for "
                + maxTokens + ". Shorten the message or lower max_tokens."));
          }
          return Future.succeededFuture(new Prepared(model, settings, sampling));
        });
  }

  /**
   * The writes as one statement on the pool, its own transaction or a batch's of the tenant's turns beginning
   * meanwhile ({@link GroupCommits}: acknowledged once committed; a failed batch is retried a row at a time). A
   * key already in use wrote nothing: the retry's path (replay, in progress, or generate again) runs in a
   * transaction as before.
   */
  private Future<Begun> alone(UUID tenantId, TurnRequest req, UUID conversationId, Prepared p) {
    return beginTurn(args -> begins.execute(tenantId, args), tenantId, req, conversationId, p.model(), true, true)
        .compose(r -> r != null
            ? Future.succeededFuture(new Begun(conversationId, r.getUUID("user_id"), r.getUUID("answer_id"),
                p.settings(), history(req, r), null, p.sampling(), p.model(), null))
            : db.inTenant(tenantId, c -> written(c, tenantId, req, conversationId, p, null))
                .map(b -> new Begun(b.conversationId(), b.userMessageId(), b.assistantMessageId(), b.settings(),
                    b.history(), b.replay(), p.sampling(), p.model(), null)));
  }

  /** The turn's begin in one transaction: choice, settings, checks, writes (the paths {@link #alone} leaves). */
  private Future<Begun> inTransaction(UUID tenantId, TurnRequest req, UUID conversationId, ModelStep choice,
                                      BiFunction<ModelChoice, JsonObject, SamplingParams> tenantSampling,
                                      KnownAnswer known) {
    // both reads sent at once: the connection pipelines them
    return db.inTenant(tenantId, c -> Future.all(choice.apply(c), settings(c, tenantId)).compose(read ->
        prepare(tenantId, req, read.resultAt(0), read.resultAt(1), tenantSampling).compose(p -> {
          SamplingParams sampling = p.sampling();
          return written(c, tenantId, req, conversationId, p, sampling.constraint() == null ? known : null)
              .compose(b -> {
                // a retry generating into its earlier answer row: that row is finished here, as a finish would
                KnownAnswer whole = b.replay() == null && b.stored() == null && sampling.constraint() == null ? known : null;
                Future<Void> finished = whole == null ? Future.succeededFuture()
                    : storing(c.preparedQuery(FINISH).execute(
                        GroupCommits.scoped(tenantId, whole.row(b.conversationId(), b.assistantMessageId()))));
                return finished.map(v -> new Begun(b.conversationId(), b.userMessageId(), b.assistantMessageId(),
                    b.settings(), b.history(), b.replay(), sampling, p.model(), whole != null ? whole : b.stored()));
              });
        })));
  }

  /**
   * What the model must see whatever the history: system prompt, the caller's system messages, the question
   * (and the tools offered, added by the caller).
   */
  private static int pinnedTokens(TokenCounter tokens, Settings settings, List<ChatMessage> msgs) {
    int pinned = tokens.count(settings.systemPrompt()) + TokenCounter.MESSAGE_OVERHEAD + tokens.count(msgs.get(msgs.size() - 1));
    for (ChatMessage m : msgs.subList(0, msgs.size() - 1)) {
      pinned += m.role().equals("system") ? tokens.count(m) : 0;
    }
    return pinned;
  }

  /** A known answer's statement failed: the turn fails as a failed finish does, and its transaction rolls back. */
  private static Future<Void> storing(Future<?> statement) {
    return statement.<Void>mapEmpty().recover(err -> Future.failedFuture(
        BusFailure.STORAGE_ERROR.exception("The answer could not be stored.")));
  }

  /** In the tenant's transaction: a retry's stored turn (found by its key), else the turn's writes. */
  private Future<Begun> written(SqlConnection c, UUID tenantId, TurnRequest req, UUID conversationId, Prepared p,
                                KnownAnswer known) {
    Future<Begun> existing = req.idempotencyKey() == null ? Future.succeededFuture(null)
        : byIdempotencyKey(c, req, p.settings());
    return existing.compose(found -> found != null ? Future.succeededFuture(found)
        : insertTurn(c, tenantId, req, conversationId, p.model(), p.settings(), known));
  }

  /**
   * The tenant's chat settings: the node's copy while it listens for their changes (V53), else read here
   * (and kept, unless a change was announced meanwhile). Only this class stores values of this cache.
   */
  private Future<Settings> settings(SqlConnection c, UUID tenantId) {
    TenantValues<Object> cache = db.chatSettings();
    if (cache.get(tenantId) instanceof Settings known) {
      return Future.succeededFuture(known);
    }
    long startedAt = cache.begin();
    return c.preparedQuery("SELECT system_prompt, max_message_chars, settings FROM tenant_settings").execute()
        .map(rows -> {
          Settings read;
          if (rows.size() == 0) {
            read = new Settings("", 8000, new JsonObject());
          } else {
            Row r = rows.iterator().next();
            JsonObject extra = r.getJsonObject("settings");
            read = new Settings(r.getString("system_prompt"), r.getInteger("max_message_chars"),
                extra == null ? new JsonObject() : extra);
          }
          cache.offer(tenantId, read, startedAt);
          return read;
        });
  }

  /**
   * A retry: a complete answer is replayed; one still streaming is in progress (409) unless it stalled
   * (its node died), and a stalled or interrupted one is generated again into the same row.
   */
  private Future<Begun> byIdempotencyKey(SqlConnection c, TurnRequest req, Settings settings) {
    return c.preparedQuery("SELECT u.id AS user_id, u.conversation_id, cv.channel, cv.visitor_id, a.id AS answer_id, "
            + "a.status, a.content, a.reasoning, a.citations, a.intent, a.prompt_tokens, a.completion_tokens, "
            + "a.finish_reason, a.tool_calls, "
            + "a.updated_at < now() - interval '" + STALE_AFTER + "' AS stale "
            + "FROM messages u JOIN conversations cv ON cv.id = u.conversation_id "
            + "LEFT JOIN messages a ON a.reply_to = u.id WHERE u.idempotency_key = $1 FOR UPDATE OF u")
        .execute(Tuple.of(req.idempotencyKey()))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture(null);
          }
          Row r = rows.iterator().next();
          if (!req.channel().equals(r.getString("channel"))
              || !java.util.Objects.equals(req.visitorId(), r.getString("visitor_id"))) {
            return Future.failedFuture(BusFailure.INVALID_REQUEST.exception(
                "This idempotency key was already used for a different conversation."));
          }
          UUID conv = r.getUUID("conversation_id");
          UUID userId = r.getUUID("user_id");
          UUID answerId = r.getUUID("answer_id");
          String status = r.getString("status");
          if ("complete".equals(status) || "blocked".equals(status)) {
            StoredAnswer answer = new StoredAnswer(r.getString("content"), r.getString("reasoning"),
                Citations.fromJson(r.getJsonArray("citations")), r.getString("intent"),
                new Usage(r.getInteger("prompt_tokens"), r.getInteger("completion_tokens")),
                finishReason(r.getString("finish_reason"), status), StoredToolCalls.fromJson(r.getJsonArray("tool_calls")));
            return Future.succeededFuture(new Begun(conv, userId, answerId, settings, List.of(), answer, null));
          }
          if ("streaming".equals(status) && !Boolean.TRUE.equals(r.getBoolean("stale"))) {
            return Future.failedFuture(BusFailure.TURN_IN_PROGRESS.exception(
                "The answer to this request is still being generated; retry when it is done."));
          }
          Future<UUID> answer = answerId == null
              ? insertAnswer(c, conv, userId, null)
              : c.preparedQuery("UPDATE messages SET status = 'streaming', content = '', reasoning = NULL, "
                  + "citations = '[]', updated_at = now() WHERE id = $1").execute(Tuple.of(answerId)).map(answerId);
          return answer.compose(aid -> history(c, req, conv, userId)
              .map(h -> new Begun(conv, userId, aid, settings, h, null, null)));
        });
  }

  /**
   * The turn's writes in its transaction (V56's {@code begin_turn}, the key already looked up here). {@code
   * known} (null: none): the answer is inserted complete, as its finish would leave it.
   */
  private Future<Begun> insertTurn(SqlConnection c, UUID tenantId, TurnRequest req, UUID conversationId,
                                   ModelChoice model, Settings settings, KnownAnswer known) {
    return beginTurn(args -> c.preparedQuery(BEGIN_TURN).execute(GroupCommits.scoped(tenantId, args))
        .map(GroupCommits::first), tenantId, req, conversationId, model, false, known == null).compose(r -> {
      UUID userId = r.getUUID("user_id");
      List<ChatMessage> history = history(req, r);
      if (known == null) {
        return Future.succeededFuture(new Begun(conversationId, userId, r.getUUID("answer_id"), settings, history,
            null, null));
      }
      return insertAnswered(c, conversationId, userId, model.storedVersionId(), known)
          .map(answerId -> new Begun(conversationId, userId, answerId, settings, history, null, null, null, known));
    });
  }

  /**
   * V56's {@code begin_turn}: {@code call} runs it with its parameters after the tenant, grouped ({@link
   * GroupCommits}: its own transaction or a batch's) or in the tenant's transaction. The conversation's insert or update, the widget's history of a continuing conversation, the
   * question and ({@code withAnswer}) its 'streaming' answer row. Completes with null when {@code checkKey} and
   * the key is in use (nothing written); fails with {@code conversation_not_found} when a continuing turn's
   * conversation is not this visitor's (nothing written).
   */
  private Future<Row> beginTurn(Function<Tuple, Future<Row>> call, UUID tenantId, TurnRequest req, UUID conversationId, ModelChoice model,
                                boolean checkKey, boolean withAnswer) {
    ChatMessage user = req.messages().get(req.messages().size() - 1);
    String masked = PiiMasker.mask(user.content()); // once: the title is made of it too
    boolean continuing = req.conversationId() != null;
    String title = null;
    if (!continuing) {
      title = masked.strip();
      title = title.substring(0, Math.min(title.length(), 80));
    }
    boolean widgetStarts = !continuing && ChatMessages.CHANNEL_WIDGET.equals(req.channel());
    // no handoff can open on a conversation before it exists, and each one that opens later is announced: the
    // visitor's next turn skips the handoff lookup (Handoffs.visitorMessage)
    KnownAbsent noHandoff = db.withoutOpenHandoff();
    long absentSince = widgetStarts ? noHandoff.begin() : 0;
    Tuple args = Tuple.tuple(Arrays.asList(conversationId, continuing, req.channel(),
        req.visitorId(), title, model.storedVersionId(), "tool".equals(user.role()) ? "tool" : "user", masked,
        req.idempotencyKey(), user.toolCallId(), req.mediaId() == null ? null : UUID.fromString(req.mediaId()),
        checkKey, continuing && !req.channel().equals(ChatMessages.CHANNEL_API), withAnswer));
    return call.apply(args).compose(r -> {
      if (Boolean.TRUE.equals(r.getBoolean("key_used"))) {
        return Future.succeededFuture(null);
      }
      if (!Boolean.TRUE.equals(r.getBoolean("conversation_found"))) {
        return Future.failedFuture(BusFailure.CONVERSATION_NOT_FOUND.exception("No such conversation."));
      }
      if (widgetStarts) {
        noHandoff.offer(tenantId, conversationId, absentSince);
      }
      return Future.succeededFuture(r);
    });
  }

  private static final String BEGIN_TURN = "SELECT key_used, conversation_found, user_id, answer_id, history_roles, "
      + "history_contents FROM begin_turn($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

  /**
   * Earlier turns: for the API the caller sends them (all but the last message); for the widget and the
   * console's playground, the conversation's as {@code begin_turn} read them (none for a new one).
   */
  private static List<ChatMessage> history(TurnRequest req, Row r) {
    List<ChatMessage> msgs = req.messages();
    if (req.channel().equals(ChatMessages.CHANNEL_API)) {
      return List.copyOf(msgs.subList(0, msgs.size() - 1));
    }
    String[] roles = r.getArrayOfStrings("history_roles");
    String[] contents = r.getArrayOfStrings("history_contents");
    List<ChatMessage> h = new ArrayList<>();
    for (int i = roles == null ? -1 : roles.length - 1; i >= 0; i--) { // newest first as read
      h.add(new ChatMessage(roles[i], contents[i]));
    }
    return h;
  }

  /**
   * The answer row already complete: the columns and values a finish writes (its parameters, {@link
   * #finishRow}), in one insert instead of an insert and an update. The conversation was moved by this
   * transaction already (inserted or updated at now(), the time a finish would set). The two latencies are cast to
   * their base type: were their columns domains (as V60 made the text columns), a parameter bound straight to them
   * would be described by the domain's type, which the client encodes only from a String.
   */
  private Future<UUID> insertAnswered(SqlConnection c, UUID conversationId, UUID userId, UUID modelVersion,
                                      KnownAnswer known) {
    UUID answerId = UUID.randomUUID();
    return storing(c.preparedQuery("INSERT INTO messages (id, status, content, reasoning, citations, intent, "
            + "intent_score, prompt_tokens, completion_tokens, trace, finish_reason, tool_calls, first_token_ms, "
            + "answer_ms, conversation_id, faq_entry_id, reply_to, model_version_id, tenant_id, role, created_at, "
            + "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::integer, $14::integer, "
            + "$15, $16, $17, $18, app_tenant(), 'assistant', clock_timestamp(), clock_timestamp())")
        .execute(known.row(conversationId, answerId).addValue(userId).addValue(modelVersion)))
        .map(answerId);
  }

  private Future<UUID> insertAnswer(SqlConnection c, UUID conversationId, UUID userId, UUID modelVersion) {
    return c.preparedQuery("INSERT INTO messages (tenant_id, conversation_id, role, content, status, reply_to, "
            + "model_version_id, created_at) VALUES (app_tenant(), $1, 'assistant', '', 'streaming', $2, $3, "
            + "clock_timestamp()) RETURNING id")
        .execute(Tuple.of(conversationId, userId, modelVersion))
        .map(rows -> rows.iterator().next().getUUID(0));
  }

  /**
   * A retry's history: the conversation's complete turns before its own message (a turn's history otherwise
   * comes back from {@code begin_turn}).
   */
  private static final String HISTORY_BEFORE = "SELECT role, content FROM messages WHERE conversation_id = $1 "
      + "AND status = 'complete' AND content <> '' AND role IN ('user', 'assistant') "
      + "AND created_at < (SELECT created_at FROM messages WHERE id = $2) ORDER BY created_at DESC LIMIT " + HISTORY_LIMIT;

  /** Earlier turns before {@code before}: for the API the caller sends them (all but the last message). */
  private Future<List<ChatMessage>> history(SqlConnection c, TurnRequest req, UUID conversationId, UUID before) {
    List<ChatMessage> msgs = req.messages();
    if (req.channel().equals(ChatMessages.CHANNEL_API)) {
      return Future.succeededFuture(List.copyOf(msgs.subList(0, msgs.size() - 1)));
    }
    return c.preparedQuery(HISTORY_BEFORE).execute(Tuple.of(conversationId, before))
        .map(rows -> {
          List<ChatMessage> h = new ArrayList<>();
          for (Row r : rows) {
            h.add(new ChatMessage(r.getString("role"), r.getString("content")));
          }
          Collections.reverse(h);
          return h;
        });
  }

  /**
   * The tenant's stored picture as a {@code data:} URL, for a vision-capable version (encoded on the
   * tokenizer pool: up to CHANNEL_MEDIA_MAX_BYTES); fails when the picture is gone (erased, expired).
   */
  Future<String> picture(UUID tenantId, UUID mediaId) {
    return db.inTenant(tenantId, c -> c.preparedQuery("SELECT content_type, data FROM channel_media WHERE id = $1")
            .execute(Tuple.of(mediaId)))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.failedFuture(new IllegalStateException("picture " + mediaId + " is not stored"));
          }
          Row r = rows.iterator().next();
          String type = r.getString("content_type");
          byte[] data = r.getBuffer("data").getBytes();
          return tokenizer.executeBlocking(() -> "data:" + type + ";base64,"
              + java.util.Base64.getEncoder().encodeToString(data), false);
        });
  }

  /** A row written before finish_reason was stored replays as it did then. */
  private static String finishReason(String stored, String status) {
    if (stored != null) {
      return stored;
    }
    return "blocked".equals(status) ? "content_filter" : "stop";
  }

  /** Stores the answer once: the row leaves 'streaming' for 'complete' or 'interrupted'. */
  Future<Void> finish(UUID tenantId, UUID conversationId, UUID answerId, String status, String content,
                      String reasoning, List<Citation> citations, String intent, double score, Usage usage,
                      TurnTrace trace) {
    return finish(tenantId, conversationId, answerId, status, content, reasoning, citations, intent, score, usage,
        trace, null);
  }

  /** As above, with the finish_reason a replay of this answer reports. */
  Future<Void> finish(UUID tenantId, UUID conversationId, UUID answerId, String status, String content,
                      String reasoning, List<Citation> citations, String intent, double score, Usage usage,
                      TurnTrace trace, String finishReason) {
    return finish(tenantId, conversationId, answerId, status, content, reasoning, citations, intent, score, usage,
        trace, finishReason, List.of(), null);
  }

  /**
   * As above, with the tool calls the model made (stored as made: a replay returns them) and the
   * answer's measured times (null: not measured; the overview leaves it out).
   */
  Future<Void> finish(UUID tenantId, UUID conversationId, UUID answerId, String status, String content,
                      String reasoning, List<Citation> citations, String intent, double score, Usage usage,
                      TurnTrace trace, String finishReason, List<ToolCall> toolCalls,
                      TraceRecorder.AnswerTiming timing) {
    return finish(tenantId, conversationId, answerId, status, content, reasoning, citations, intent, score, usage,
        trace, finishReason, toolCalls, timing, null);
  }

  /** As above, with the FAQ entry whose answer this is (null: none): its question variants feed datasets. */
  Future<Void> finish(UUID tenantId, UUID conversationId, UUID answerId, String status, String content,
                      String reasoning, List<Citation> citations, String intent, double score, Usage usage,
                      TurnTrace trace, String finishReason, List<ToolCall> toolCalls,
                      TraceRecorder.AnswerTiming timing, UUID faqEntryId) {
    // Committed with the other turns finishing meanwhile (group commit), before the caller goes on
    return finishes.execute(tenantId, finishRow(conversationId, answerId, status, content, reasoning, citations,
        intent, score, usage, trace, finishReason, toolCalls, timing, faqEntryId)).mapEmpty();
  }

  /** The finish statement's parameters for one answer (stored the same whether finished apart or at begin). */
  static Tuple finishRow(UUID conversationId, UUID answerId, String status, String content, String reasoning,
                         List<Citation> citations, String intent, double score, Usage usage, TurnTrace trace,
                         String finishReason, List<ToolCall> toolCalls, TraceRecorder.AnswerTiming timing,
                         UUID faqEntryId) {
    JsonArray cites = Citations.toJson(citations);
    // the trace replaces an earlier attempt's (a retry generates into the same row); none: null
    return Tuple.tuple(Arrays.asList(answerId, status, PiiMasker.mask(content), reasoning == null || reasoning.isEmpty() ? "" : reasoning,
        cites, intent == null ? "chat" : intent, (float) score, usage.promptTokens(), usage.completionTokens(),
        trace == null ? null : TraceJson.toJson(trace), finishReason, StoredToolCalls.toJson(toolCalls),
        timing == null ? null : timing.firstTokenMs(), timing == null ? null : timing.answerMs(),
        conversationId, faqEntryId));
  }
}
