package ai.deepchat.console.conversations;

import ai.deepchat.console.auth.ConsoleRole;
import ai.deepchat.console.auth.ConsoleSession;
import ai.deepchat.console.markdown.MarkdownRenderer;
import ai.deepchat.console.web.ConsoleException;
import ai.deepchat.console.web.ConsoleRouter;
import ai.deepchat.console.web.Forms;
import ai.deepchat.console.web.Rows;
import ai.deepchat.console.web.Views;
import ai.deepchat.export.ConversationExport;
import ai.deepchat.export.ExportFilter;
import ai.deepchat.export.ExportFormat;
import ai.deepchat.platform.db.Database;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Conversations: search over message text, and a transcript with intents, citations and feedback. */
public final class ConversationRoutes {

  private static final int PAGE = 50;
  /** The intents the pipeline stores (docs/api.md), offered as the export's intent filter. */
  private static final List<String> EXPORT_INTENTS = List.of("faq", "knowledge", "chat", "handoff", "plugin", "blocked");

  private final Database database;
  private final Views views;
  private final MarkdownRenderer markdown;
  private final ConversationExport export;

  public ConversationRoutes(Database database, Views views, MarkdownRenderer markdown, ConversationExport export) {
    this.export = export;
    this.database = database;
    this.views = views;
    this.markdown = markdown;
  }

  public void mount(ConsoleRouter routes) {
    routes.get("/conversations", ConsoleRole.VIEWER, this::list);
    // before "/conversations/:id"; a bulk copy of visitors' words: admins only, audited
    routes.get("/conversations/export", ConsoleRole.ADMIN, this::export);
    routes.get("/conversations/:id", ConsoleRole.VIEWER, this::transcript);
    routes.get("/messages/:id/trace", ConsoleRole.VIEWER, this::trace);
    routes.get("/media/:id", ConsoleRole.VIEWER, this::picture);
  }

  private Future<?> list(RoutingContext ctx, ConsoleSession s) {
    String q = ctx.request().getParam("q", "").strip();
    String channel = ctx.request().getParam("channel", "");
    if (q.length() > 200) {
      throw ConsoleException.badRequest("error.tooLong", "q", 200);
    }
    if (!channel.isEmpty() && !List.of("api", "widget", "console", "wechat", "wecom").contains(channel)) {
      channel = "";
    }
    // ILIKE with the user's text as a literal pattern (%, _ and \ escaped)
    String like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%";
    String ch = channel;
    return database.inTenant(s.tenantId(), c -> c.preparedQuery("SELECT cv.id, cv.channel, cv.title, cv.visitor_id, "
            + "cv.updated_at, (SELECT count(*) FROM messages m WHERE m.conversation_id = cv.id) AS messages, "
            + "(SELECT m.content FROM messages m WHERE m.conversation_id = cv.id AND m.role = 'user' "
            + "ORDER BY m.created_at LIMIT 1) AS first_question FROM conversations cv "
            + "WHERE ($1 = '' OR cv.channel = $1) AND ($2 = '%%' OR cv.title ILIKE $2 OR EXISTS (SELECT 1 FROM messages m "
            + "WHERE m.conversation_id = cv.id AND m.content ILIKE $2)) ORDER BY cv.updated_at DESC LIMIT " + PAGE)
        .execute(Tuple.of(ch, like)))
        .compose(rows -> {
          List<Map<String, Object>> list = Rows.maps(rows);
          list.forEach(m -> {
            Object first = m.get("first_question");
            if (first instanceof String f && f.length() > 140) {
              m.put("first_question", f.substring(0, 140) + "…");
            }
          });
          Map<String, Object> model = new HashMap<>();
          model.put("section", "conversations");
          model.put("conversations", list);
          model.put("q", q);
          model.put("channel", ch);
          model.put("intents", EXPORT_INTENTS);
          return views.render(ctx, "conversations", model);
        });
  }

  /** The export of docs/api.md ("Conversation export"), with the same query parameters, streamed. */
  private Future<?> export(RoutingContext ctx, ConsoleSession s) {
    ExportFilter filter;
    ExportFormat format;
    try {
      filter = ExportFilter.parse(ctx.queryParams());
      format = ExportFormat.named(ctx.request().getParam("format"));
    } catch (ExportFilter.Invalid e) {
      throw ConsoleException.badRequest("error.invalid", e.param());
    }
    return export.stream(s.tenantId(), filter, format, s.actor(), Forms.ip(ctx), ctx.response()).recover(err -> {
      if (!(err instanceof ConversationExport.Busy)) {
        return Future.failedFuture(err);
      }
      ctx.response().putHeader("Retry-After", String.valueOf(ConversationExport.Busy.RETRY_AFTER_SECONDS));
      views.error(ctx, 429, "error.429", ConversationExport.Busy.RETRY_AFTER_SECONDS);
      return Future.succeededFuture();
    });
  }

  private Future<?> transcript(RoutingContext ctx, ConsoleSession s) {
    UUID id = Forms.id(ctx, "id");
    return database.inTenant(s.tenantId(), c -> c.preparedQuery("SELECT id, channel, title, visitor_id, created_at "
            + "FROM conversations WHERE id = $1").execute(Tuple.of(id))
        .compose(conv -> {
          if (conv.size() == 0) {
            throw ConsoleException.notFound();
          }
          return c.preparedQuery("SELECT id, role, content, status, intent, intent_score, citations, feedback, "
                  + "feedback_comment, prompt_tokens, completion_tokens, created_at, trace, media_id FROM messages "
                  + "WHERE conversation_id = $1 AND role <> 'system' ORDER BY created_at, id").execute(Tuple.of(id))
              .compose(msgs -> c.preparedQuery("SELECT score, comment, created_at FROM conversation_ratings "
                  + "WHERE conversation_id = $1 ORDER BY created_at").execute(Tuple.of(id)).map(ratings -> {
                List<Map<String, Object>> messages = new ArrayList<>();
                for (Row r : msgs) {
                  Map<String, Object> m = Rows.map(r);
                  m.put("citations", citations(r.getValue("citations")));
                  Object trace = r.getValue("trace");
                  m.put("trace", trace instanceof JsonObject t ? t.encodePrettily() : null);
                  messages.add(m);
                }
                Map<String, Object> model = new HashMap<>();
                model.put("section", "conversations");
                model.put("conversation", Rows.map(conv.iterator().next()));
                model.put("messages", messages);
                model.put("ratings", Rows.maps(ratings));
                return model;
              }));
        }))
        // rendered off the event loop: a visitor's message is arbitrary Markdown
        .compose(model -> markdown.fill(messagesOf(model), "content", "html").map(model))
        .compose(model -> views.render(ctx, "conversation", model));
  }

  /**
   * The stored trace of one answer, as JSON (the playground's and the API's shape); 404 for a message
   * without one, and for another workspace's message (row-level security finds nothing).
   */
  private Future<?> trace(RoutingContext ctx, ConsoleSession s) {
    UUID id = Forms.id(ctx, "id");
    return database.inTenant(s.tenantId(), c -> c.preparedQuery("SELECT trace FROM messages WHERE id = $1 "
            + "AND trace IS NOT NULL").execute(Tuple.of(id)))
        .compose(rows -> {
          if (rows.size() == 0) {
            return ctx.response().setStatusCode(404).putHeader("Content-Type", "application/json; charset=utf-8")
                .end(new JsonObject().put("error", new JsonObject().put("code", "not_found")
                    .put("message", views.message(ctx, "error.404"))).encode());
          }
          return ctx.json(rows.iterator().next().getJsonObject("trace"));
        });
  }

  /**
   * A picture a channel user sent (the transcript shows it), as its checked image type; another
   * workspace's id, or one erased or past retention, is 404 (row-level security finds nothing). The
   * bytes are never sniffed as anything else, nor kept by the browser after an erasure.
   */
  private Future<?> picture(RoutingContext ctx, ConsoleSession s) {
    UUID id = Forms.id(ctx, "id");
    return database.inTenant(s.tenantId(), c -> c.preparedQuery("SELECT content_type, data FROM channel_media "
            + "WHERE id = $1").execute(Tuple.of(id)))
        .compose(rows -> {
          if (rows.size() == 0) {
            throw ConsoleException.notFound();
          }
          Row r = rows.iterator().next();
          return ctx.response().putHeader("Content-Type", r.getString("content_type"))
              .putHeader("X-Content-Type-Options", "nosniff")
              .putHeader("Content-Disposition", "inline")
              .putHeader("Cache-Control", "private, no-store")
              .end(r.getBuffer("data"));
        });
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> messagesOf(Map<String, Object> model) {
    return (List<Map<String, Object>>) model.get("messages");
  }

  /** Citations as stored by the pipeline: [{n, title, section, documentId}], tolerant of missing fields. */
  static List<Map<String, Object>> citations(Object value) {
    List<Map<String, Object>> out = new ArrayList<>();
    if (!(value instanceof JsonArray array)) {
      return out;
    }
    int i = 1;
    for (Object o : array) {
      if (o instanceof JsonObject j) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("n", j.getValue("n", i));
        m.put("title", String.valueOf(j.getValue("title", "")));
        m.put("section", String.valueOf(j.getValue("section", "")));
        m.put("documentId", String.valueOf(j.getValue("documentId", "")));
        out.add(m);
      }
      i++;
    }
    return out;
  }
}
