package ai.deepchat.console.knowledge;

import ai.deepchat.console.audit.ConsoleAudit;
import ai.deepchat.console.auth.ConsoleRole;
import ai.deepchat.console.auth.ConsoleSession;
import ai.deepchat.console.markdown.MarkdownRenderer;
import ai.deepchat.console.web.ConsoleException;
import ai.deepchat.console.web.ConsoleRouter;
import ai.deepchat.console.web.Forms;
import ai.deepchat.console.web.Rows;
import ai.deepchat.console.web.Views;
import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.SqlStates;
import ai.deepchat.platform.rag.RagMessages.RetrievedChunk;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.FileUpload;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Tuple;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Knowledge bases: list and create, documents with their ingestion progress, chunks, upload (XHR with
 * progress), re-index, and the retrieval test that shows each hit's lexical, vector and fused scores.
 */
public final class KnowledgeRoutes {

  private static final int TOP_K = 8;
  private static final List<String> EMBEDDING_MODELS = List.of("bge-small-zh-v1.5-q", "bge-small-en-v1.5-q");
  /** Chunks per page of a document, and the characters of one chunk a page shows (a chunk may be MBs). */
  static final int CHUNKS_PER_PAGE = 20;
  static final int CHUNK_CHARS_SHOWN = 64 * 1024;

  private final Database database;
  private final Views views;
  private final ConsoleAudit audit;
  private final KnowledgeBackend backend;
  private final MarkdownRenderer markdown;
  private final long uploadLimit;

  /** {@code uploadLimit}: the largest file in bytes (INGEST_MAX_FILE_MB); uploads go to disk, not the heap. */
  public KnowledgeRoutes(Database database, Views views, KnowledgeBackend backend, ConsoleAudit audit,
                         MarkdownRenderer markdown, long uploadLimit) {
    this.uploadLimit = uploadLimit;
    this.audit = audit;
    this.markdown = markdown;
    this.database = database;
    this.views = views;
    this.backend = backend;
  }

  public void mount(ConsoleRouter routes) {
    routes.get("/kb", ConsoleRole.VIEWER, this::list);
    routes.post("/kb", ConsoleRole.EDITOR, this::create);
    routes.get("/kb/:kb", ConsoleRole.VIEWER, this::detail);
    routes.get("/kb/:kb/documents.json", ConsoleRole.VIEWER, this::documentsJson);
    routes.get("/kb/:kb/documents/:doc", ConsoleRole.VIEWER, this::document);
    routes.upload("/kb/:kb/upload", ConsoleRole.EDITOR, uploadLimit + 64 * 1024, this::upload);
    routes.post("/kb/:kb/reindex", ConsoleRole.EDITOR, this::reindex);
    routes.post("/kb/:kb/reembed", ConsoleRole.EDITOR, this::reembed);
    routes.post("/kb/:kb/default", ConsoleRole.ADMIN, this::makeDefault);
    routes.post("/kb/:kb/documents/:doc/delete", ConsoleRole.EDITOR, this::deleteDocument);
    routes.post("/kb/:kb/documents/:doc/retry", ConsoleRole.EDITOR, this::retryDocument);
    routes.get("/kb/:kb/search", ConsoleRole.VIEWER, this::search);
    routes.post("/kb/:kb/web-sources", ConsoleRole.EDITOR, this::addWebSource);
    routes.post("/kb/:kb/web-sources/:src/sync", ConsoleRole.EDITOR, this::syncWebSource);
  }

  private Future<?> list(RoutingContext ctx, ConsoleSession s) {
    return database.inTenant(s.tenantId(), c -> c.query("SELECT kb.id, kb.name, kb.description, kb.version, "
            + "kb.embedding_model, kb.updated_at, (SELECT count(*) FROM documents d WHERE d.knowledge_base_id = kb.id) "
            + "AS documents, (SELECT count(*) FROM chunks ch WHERE ch.knowledge_base_id = kb.id) AS chunks "
            + "FROM knowledge_bases kb ORDER BY kb.name").execute())
        .compose(rows -> views.render(ctx, "kb-list", Map.of("section", "kb", "bases", Rows.maps(rows))));
  }

  private Future<?> create(RoutingContext ctx, ConsoleSession s) {
    String name = Forms.text(ctx, "name", 120, true);
    String description = Forms.text(ctx, "description", 1000, false);
    String model = Forms.text(ctx, "embedding_model", 60, false);
    if (!model.isEmpty() && !EMBEDDING_MODELS.contains(model)) {
      throw ConsoleException.badRequest("error.invalid", "embedding_model");
    }
    String embedding = model.isEmpty() ? "bge-small-zh-v1.5-q" : model;
    return database.inTenant(s.tenantId(), c -> c.preparedQuery("INSERT INTO knowledge_bases "
            + "(tenant_id, name, description, embedding_model) VALUES ($1, $2, $3, $4) RETURNING id")
        .execute(Tuple.of(s.tenantId(), name, description, embedding))
        .compose(rows -> {
          UUID id = rows.iterator().next().getUUID("id");
          return audit.record(c, s, Forms.ip(ctx), "kb.create", "kb:" + id,
              new JsonObject().put("name", name)).map(id);
        }))
        .recover(err -> SqlStates.isUniqueViolation(err)
            ? Future.failedFuture(ConsoleException.badRequest("error.duplicate", name)) : Future.failedFuture(err))
        .compose(id -> ConsoleRouter.done(ctx, "/kb/" + id, "created"));
  }

  /** The knowledge base of this tenant named by the path, or a 404 (also for another tenant's id). */
  private Future<Map<String, Object>> base(ConsoleSession s, UUID kb) {
    return base(database, s, kb);
  }

  static Future<Map<String, Object>> base(Database database, ConsoleSession s, UUID kb) {
    return database.inTenant(s.tenantId(), c -> c.preparedQuery("SELECT id, name, description, version, "
        + "embedding_model, (id = (SELECT default_knowledge_base_id FROM tenant_settings)) IS TRUE AS is_default, "
        + "reembed_model, reembed_status, reembed_done, reembed_total, reembed_error, reembed_auto_switch "
        + "FROM knowledge_bases WHERE id = $1").execute(Tuple.of(kb)))
        .map(rows -> {
          if (rows.size() == 0) {
            throw ConsoleException.notFound();
          }
          return Rows.map(rows.iterator().next());
        });
  }

  private Future<?> detail(RoutingContext ctx, ConsoleSession s) {
    UUID kb = Forms.id(ctx, "kb");
    return base(s, kb).compose(base -> database.inTenant(s.tenantId(), c -> c.preparedQuery(
            "SELECT id, title, source_name, content_type, size_bytes, status, progress, error, chunk_count, "
                + "updated_at FROM documents WHERE knowledge_base_id = $1 ORDER BY updated_at DESC")
        .execute(Tuple.of(kb))
        .compose(docs -> c.preparedQuery("SELECT id, start_url, whole_site, max_depth, max_pages, "
                + "sync_interval_minutes, status, error, pages_found, pages_done, pages_added, pages_updated, "
                + "pages_unchanged, pages_removed, pages_failed, last_synced_at FROM web_sources "
                + "WHERE knowledge_base_id = $1 ORDER BY created_at").execute(Tuple.of(kb))
            .map(sources -> Map.of("documents", docs, "sources", sources))))
        .compose(rows -> {
          Map<String, Object> model = new HashMap<>();
          model.put("section", "kb");
          model.put("kb", base);
          model.put("documents", Rows.maps(rows.get("documents")));
          model.put("sources", Rows.maps(rows.get("sources")));
          model.put("uploadLimitMb", uploadLimit / (1024 * 1024));
          return views.render(ctx, "kb-detail", model);
        }));
  }

  private Future<?> documentsJson(RoutingContext ctx, ConsoleSession s) {
    UUID kb = Forms.id(ctx, "kb");
    return base(s, kb).compose(base -> database.inTenant(s.tenantId(), c -> c.preparedQuery(
            "SELECT id, title, status, progress, error, chunk_count FROM documents WHERE knowledge_base_id = $1 "
                + "ORDER BY updated_at DESC").execute(Tuple.of(kb))))
        .compose(rows -> {
          JsonArray docs = new JsonArray();
          rows.forEach(r -> docs.add(new JsonObject().put("id", r.getUUID("id").toString())
              .put("title", r.getString("title")).put("status", r.getString("status"))
              .put("progress", r.getFloat("progress")).put("error", r.getString("error"))
              .put("chunks", r.getInteger("chunk_count"))));
          return ctx.json(new JsonObject().put("documents", docs));
        });
  }

  /** One page of a document's chunks ({@code ?page=}, from 1), each shown up to {@link #CHUNK_CHARS_SHOWN}. */
  private Future<?> document(RoutingContext ctx, ConsoleSession s) {
    UUID kb = Forms.id(ctx, "kb");
    UUID doc = Forms.id(ctx, "doc");
    int page = page(ctx);
    List<Map<String, Object>> chunks = new ArrayList<>();
    return base(s, kb).compose(base -> database.inTenant(s.tenantId(), c -> c.preparedQuery(
            "SELECT id, title, source_name, status, progress, error, chunk_count, size_bytes, updated_at "
                + "FROM documents WHERE id = $1 AND knowledge_base_id = $2").execute(Tuple.of(doc, kb))
        .compose(docRows -> {
          if (docRows.size() == 0) {
            throw ConsoleException.notFound();
          }
          return c.preparedQuery("SELECT id, ordinal, section_path, location, left(text, $2) AS text, "
                  + "char_length(text) - $2 AS hidden_chars, token_count FROM chunks WHERE document_id = $1 "
                  + "ORDER BY ordinal LIMIT $3 OFFSET $4")
              .execute(Tuple.of(doc, CHUNK_CHARS_SHOWN, CHUNKS_PER_PAGE, (page - 1) * CHUNKS_PER_PAGE))
              .map(rows -> {
                chunks.addAll(Rows.maps(rows));
                Map<String, Object> model = new HashMap<>();
                Map<String, Object> document = Rows.map(docRows.iterator().next());
                int pages = Math.max(1, ((Integer) document.get("chunk_count") + CHUNKS_PER_PAGE - 1) / CHUNKS_PER_PAGE);
                model.put("section", "kb");
                model.put("kb", base);
                model.put("doc", document);
                model.put("chunks", chunks);
                model.put("page", page);
                model.put("pages", pages);
                return model;
              });
        })))
        // rendered off the event loop, after the transaction: a stored chunk is arbitrary Markdown
        .compose(model -> markdown.fill(chunks, "text", "html").map(model))
        .compose(model -> views.render(ctx, "kb-document", model));
  }

  private static int page(RoutingContext ctx) {
    String raw = ctx.request().getParam("page", "1");
    try {
      int page = Integer.parseInt(raw);
      if (page >= 1 && page <= 1_000_000) {
        return page;
      }
    } catch (NumberFormatException ignored) {
      // answered below
    }
    throw ConsoleException.badRequest("error.invalid", "page");
  }

  private Future<?> upload(RoutingContext ctx, ConsoleSession s) {
    UUID kb = Forms.id(ctx, "kb");
    List<FileUpload> files = ctx.fileUploads();
    if (files.size() != 1) {
      return ctx.response().setStatusCode(400).putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("error", views.message(ctx, "kb.upload.one")).encode());
    }
    FileUpload file = files.get(0);
    String name = file.fileName() == null ? "" : file.fileName().replaceAll("[\\\\/]", "_").strip();
    if (name.isEmpty() || name.length() > 200 || file.size() > uploadLimit) {
      return ctx.response().setStatusCode(400).putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("error", views.message(ctx, "kb.upload.invalid")).encode());
    }
    return base(s, kb)
        .compose(base -> backend.upload(s.tenantId(), kb, name, Path.of(file.uploadedFileName())))
        .compose(docId -> database.inTenant(s.tenantId(), c -> audit.record(c, s, Forms.ip(ctx),
            "kb.upload", "document:" + docId, new JsonObject().put("kb", kb.toString()).put("file", name)
                .put("bytes", file.size()))).map(docId))
        .compose(docId -> ctx.json(new JsonObject().put("documentId", docId.toString())))
        .recover(err -> {
          if (err instanceof ConsoleException) {
            return Future.failedFuture(err);
          }
          int status = err instanceof KnowledgeBackend.Unavailable ? 503 : 400;
          return ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
              .end(new JsonObject().put("error", status == 503 ? views.message(ctx, "kb.unavailable")
                  : String.valueOf(err.getMessage())).encode());
        });
  }

  /** The knowledge base that answers questions in the widget and the API (the pipeline's default). */
  private Future<?> makeDefault(RoutingContext ctx, ConsoleSession s) {
    UUID kb = Forms.id(ctx, "kb");
    return base(s, kb)
        .compose(base -> database.inTenant(s.tenantId(), c -> c.preparedQuery("INSERT INTO tenant_settings "
                + "(tenant_id, default_knowledge_base_id) VALUES ($1, $2) ON CONFLICT (tenant_id) DO UPDATE "
                + "SET default_knowledge_base_id = $2, updated_at = now()").execute(Tuple.of(s.tenantId(), kb))
            .compose(x -> audit.record(c, s, Forms.ip(ctx), "kb.make_default", "kb:" + kb,
                new JsonObject().put("name", base.get("name"))))))
        .compose(x -> ConsoleRouter.done(ctx, "/kb/" + kb, "saved"));
  }

  private Future<?> deleteDocument(RoutingContext ctx, ConsoleSession s) {
    UUID kb = Forms.id(ctx, "kb");
    UUID doc = Forms.id(ctx, "doc");
    return base(s, kb)
        .compose(base -> database.inTenant(s.tenantId(), c -> c.preparedQuery("SELECT title FROM documents "
            + "WHERE id = $1 AND knowledge_base_id = $2").execute(Tuple.of(doc, kb))))
        .compose(rows -> {
          if (rows.size() == 0) {
            throw ConsoleException.notFound();
          }
          String title = rows.iterator().next().getString("title");
          return backend.deleteDocument(s.tenantId(), kb, doc)
              .compose(x -> database.inTenant(s.tenantId(), c -> audit.record(c, s, Forms.ip(ctx),
                  "kb.document_delete", "document:" + doc, new JsonObject().put("kb", kb.toString()).put("title", title))));
        })
        .compose(x -> ConsoleRouter.done(ctx, "/kb/" + kb, "deleted"))
        .recover(err -> err instanceof KnowledgeBackend.Unavailable
            ? ConsoleRouter.done(ctx, "/kb/" + kb, "unavailable") : Future.failedFuture(err));
  }

  /** A failed document ingested again from its stored original; its row shows the progress as usual. */
  private Future<?> retryDocument(RoutingContext ctx, ConsoleSession s) {
    UUID kb = Forms.id(ctx, "kb");
    UUID doc = Forms.id(ctx, "doc");
    return base(s, kb)
        .compose(base -> backend.retry(s.tenantId(), kb, doc))
        .compose(x -> database.inTenant(s.tenantId(), c -> audit.record(c, s, Forms.ip(ctx),
            "kb.document_retry", "document:" + doc, new JsonObject().put("kb", kb.toString()))))
        .compose(x -> ConsoleRouter.done(ctx, "/kb/" + kb, "retrying"))
        .recover(err -> {
          if (err instanceof KnowledgeBackend.Unavailable) {
            return ConsoleRouter.done(ctx, "/kb/" + kb, "unavailable");
          }
          if (err instanceof BusFailure.Failed refusal && refusal.failure() == BusFailure.NOT_FOUND) {
            return Future.failedFuture(ConsoleException.notFound());
          }
          return err instanceof BusFailure.Failed ? Future.failedFuture(ConsoleException.badRequest("error.invalid", "document"))
              : Future.failedFuture(err);
        });
  }

  /** The web import form: one page, or the whole site within depth and page limits, optionally on a schedule. */
  private Future<?> addWebSource(RoutingContext ctx, ConsoleSession s) {
    UUID kb = Forms.id(ctx, "kb");
    // another tenant's knowledge base is a 404 whatever the form holds
    return base(s, kb)
        .compose(base -> {
          int interval = number(ctx, "sync_interval_minutes", 0, 30 * 24 * 60, 0);
          if (interval > 0 && interval < 5) {
            throw ConsoleException.badRequest("error.invalid", "sync_interval_minutes");
          }
          return backend.addWebSource(s.tenantId(), kb, Forms.text(ctx, "url", 2_000, true),
              Forms.checkbox(ctx, "whole_site"), number(ctx, "max_depth", 0, 10, 3),
              number(ctx, "max_pages", 1, 2_000, 100), interval == 0 ? null : interval);
        })
        .compose(id -> database.inTenant(s.tenantId(), c -> audit.record(c, s, Forms.ip(ctx), "kb.web_source_add",
            "web_source:" + id, new JsonObject().put("kb", kb.toString()).put("url", Forms.text(ctx, "url", 2_000,
                true)))))
        .compose(x -> ConsoleRouter.done(ctx, "/kb/" + kb, "webSyncStarted"))
        .recover(err -> webRefusal(ctx, kb, err));
  }

  private Future<?> syncWebSource(RoutingContext ctx, ConsoleSession s) {
    UUID kb = Forms.id(ctx, "kb");
    UUID source = Forms.id(ctx, "src");
    return base(s, kb)
        .compose(base -> backend.syncWebSource(s.tenantId(), kb, source))
        .compose(x -> database.inTenant(s.tenantId(), c -> audit.record(c, s, Forms.ip(ctx), "kb.web_source_sync",
            "web_source:" + source, new JsonObject().put("kb", kb.toString()))))
        .compose(x -> ConsoleRouter.done(ctx, "/kb/" + kb, "webSyncStarted"))
        .recover(err -> webRefusal(ctx, kb, err));
  }

  private static Future<Void> webRefusal(RoutingContext ctx, UUID kb, Throwable err) {
    if (err instanceof KnowledgeBackend.Unavailable) {
      return ConsoleRouter.done(ctx, "/kb/" + kb, "unavailable");
    }
    if (err instanceof BusFailure.Failed refusal) {
      return Future.failedFuture(switch (refusal.failure()) {
        case NOT_FOUND -> ConsoleException.notFound();
        case CONFLICT -> ConsoleException.badRequest("kb.web.busy");
        default -> ConsoleException.badRequest("kb.web.refused", err.getMessage());
      });
    }
    return Future.failedFuture(err);
  }

  // an optional whole number of a form in [min, max]; empty keeps the default
  private static int number(RoutingContext ctx, String name, int min, int max, int fallback) {
    String raw = Forms.text(ctx, name, 10, false);
    if (raw.isEmpty()) {
      return fallback;
    }
    try {
      int value = Integer.parseInt(raw.strip());
      if (value >= min && value <= max) {
        return value;
      }
    } catch (NumberFormatException ignored) {
      // answered below
    }
    throw ConsoleException.badRequest("error.invalid", name);
  }

  private Future<?> reindex(RoutingContext ctx, ConsoleSession s) {
    UUID kb = Forms.id(ctx, "kb");
    return base(s, kb)
        .compose(base -> backend.reindex(s.tenantId(), kb))
        .compose(x -> database.inTenant(s.tenantId(), c -> audit.record(c, s, Forms.ip(ctx),
            "kb.reindex", "kb:" + kb, null)))
        .compose(x -> ConsoleRouter.done(ctx, "/kb/" + kb, "reindexed"))
        .recover(err -> err instanceof KnowledgeBackend.Unavailable
            ? ConsoleRouter.done(ctx, "/kb/" + kb, "reindexUnavailable") : Future.failedFuture(err));
  }

  /**
   * Starts, switches or cancels the re-embedding into another model (form field {@code action}); the
   * knowledge base's page shows its progress, and searches keep the current model until the switch.
   */
  private Future<?> reembed(RoutingContext ctx, ConsoleSession s) {
    UUID kb = Forms.id(ctx, "kb");
    // the knowledge base first: another tenant's id is a 404 whatever the form holds
    return base(s, kb)
        .map(base -> ReembedForm.of(ctx))
        .compose(form -> backend.reembed(s.tenantId(), kb, form.action(), form.model(), form.manual()).map(form))
        .compose(form -> database.inTenant(s.tenantId(), c -> audit.record(c, s, Forms.ip(ctx),
            "kb.reembed_" + form.action(), "kb:" + kb, "start".equals(form.action())
                ? new JsonObject().put("embedding_model", form.model()).put("manual", form.manual()) : null))
            .map(form))
        .compose(form -> ConsoleRouter.done(ctx, "/kb/" + kb, "reembed_" + form.action()))
        .recover(err -> {
          if (err instanceof KnowledgeBackend.Unavailable) {
            return ConsoleRouter.done(ctx, "/kb/" + kb, "unavailable");
          }
          if (err instanceof BusFailure.Failed refusal && refusal.failure() == BusFailure.CONFLICT) {
            return ConsoleRouter.done(ctx, "/kb/" + kb, "reembedConflict");
          }
          return err instanceof BusFailure.Failed ? Future.failedFuture(ConsoleException.badRequest("error.invalid",
              "embedding_model")) : Future.failedFuture(err);
        });
  }

  /** The re-embedding form: start (into {@code model}, {@code manual} switch), switch or cancel. */
  private record ReembedForm(String action, String model, boolean manual) {
    static ReembedForm of(RoutingContext ctx) {
      String action = Forms.text(ctx, "action", 10, true);
      String model = Forms.text(ctx, "embedding_model", 60, false);
      if (!List.of("start", "switch", "cancel").contains(action)
          || "start".equals(action) && !EMBEDDING_MODELS.contains(model)) {
        throw ConsoleException.badRequest("error.invalid", "start".equals(action) ? "embedding_model" : "action");
      }
      return new ReembedForm(action, model, "on".equals(Forms.text(ctx, "manual", 10, false)));
    }
  }

  private Future<?> search(RoutingContext ctx, ConsoleSession s) {
    UUID kb = Forms.id(ctx, "kb");
    String q = ctx.request().getParam("q", "").strip();
    if (q.length() > 1000) {
      throw ConsoleException.badRequest("error.tooLong", "q", 1000);
    }
    return base(s, kb).compose(base -> {
      Map<String, Object> model = new HashMap<>();
      model.put("section", "kb");
      model.put("kb", base);
      model.put("q", q);
      if (q.isEmpty()) {
        return views.render(ctx, "kb-search", model);
      }
      return backend.retrieve(s.tenantId(), kb, q, TOP_K)
          .compose(reply -> {
            List<Map<String, Object>> hits = new ArrayList<>();
            int rank = 1;
            for (RetrievedChunk h : reply.hits()) {
              Map<String, Object> m = new HashMap<>();
              m.put("rank", rank++);
              m.put("title", h.documentTitle());
              m.put("documentId", h.documentId());
              m.put("section", h.sectionPath());
              m.put("text", h.text());
              m.put("lexical", String.format("%.4f", h.lexicalScore()));
              m.put("vector", String.format("%.4f", h.vectorScore()));
              m.put("fused", String.format("%.4f", h.fusedScore()));
              hits.add(m);
            }
            model.put("hits", hits);
            model.put("searched", true);
            return markdown.fill(hits, "text", "html").map(model);
          })
          .recover(err -> {
            if (!(err instanceof KnowledgeBackend.Unavailable)) {
              return Future.failedFuture(err);
            }
            model.put("unavailable", true);
            return Future.succeededFuture(model);
          })
          .compose(m -> views.render(ctx, "kb-search", m));
    });
  }
}
