package ai.deepchat.rag.web;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.outbound.OutboundPolicy;
import ai.deepchat.platform.outbound.OutboundRefusedException;
import ai.deepchat.rag.DocumentStatus;
import ai.deepchat.rag.KnowledgeBaseService;
import ai.deepchat.rag.Page;
import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import ai.deepchat.rag.web.SiteCrawler.Found;
import ai.deepchat.rag.web.SiteCrawler.Outcome;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Web sources of knowledge bases: one URL, or a site from a start URL, imported as documents and kept in
 * step by syncs, on demand or every {@code sync_interval_minutes}. A sync re-embeds only pages whose
 * content hash changed, deletes the documents of pages that are gone (404/410, or no longer reached),
 * adds new pages, and records each page's outcome; a page that fails keeps what was imported before.
 * A sync runs under a lease on the source's row, so in a cluster one node runs a given source at a time;
 * a node that dies mid-sync frees it when the lease expires.
 */
public final class WebSources {

  private static final Logger LOG = LoggerFactory.getLogger(WebSources.class);
  /** Renewed with every page recorded; a dead node's sync can be taken over after this long. */
  static final Duration LEASE = Duration.ofMinutes(10);
  /** Scheduled syncs one node runs at once (on-demand ones are not counted against it). */
  private static final int SCHEDULED_AT_ONCE = 2;

  private final Vertx vertx;
  private final WebSourceRepository repository;
  private final KnowledgeBaseService knowledgeBases;
  private final OutboundPolicy policy;
  private final SiteCrawler crawler;
  private final PageFetcher fetcher;
  private final String owner = "node-" + UUID.randomUUID();
  private final AtomicInteger scheduledRunning = new AtomicInteger();

  public WebSources(Vertx vertx, Database database, KnowledgeBaseService knowledgeBases, OutboundPolicy policy,
                    WorkerExecutor parsing, CrawlSettings settings) {
    this.vertx = vertx;
    this.repository = new WebSourceRepository(database);
    this.knowledgeBases = knowledgeBases;
    this.policy = policy;
    this.fetcher = new PageFetcher(vertx, policy, settings.timeout());
    this.crawler = new SiteCrawler(vertx, fetcher, new HostGate(settings.perHost()), parsing, settings);
  }

  /**
   * Adds a source to the knowledge base and starts its first sync. A URL the outbound policy refuses
   * without a lookup (scheme, user info, internal literal, localhost) is refused here with
   * {@link RagError#INVALID_INPUT}; the rest is checked at every fetch.
   */
  public Future<WebSource> create(UUID tenantId, UUID knowledgeBaseId, CrawlPlan plan, Integer intervalMinutes) {
    try {
      policy.check(plan.startUrl());
    } catch (OutboundRefusedException refused) {
      return Future.failedFuture(new RagException(RagError.INVALID_INPUT, refused.getMessage()));
    }
    return knowledgeBases.knowledgeBase(tenantId, knowledgeBaseId)
        .compose(kb -> repository.create(tenantId, knowledgeBaseId, plan, intervalMinutes))
        .compose(source -> start(tenantId, source.id()).map(started -> started == null ? source : started));
  }

  /** Starts a sync now; {@link RagError#CONFLICT} while one is running (on any node). */
  public Future<WebSource> sync(UUID tenantId, UUID knowledgeBaseId, UUID sourceId) {
    return repository.get(tenantId, knowledgeBaseId, sourceId)
        .compose(source -> start(tenantId, sourceId))
        .compose(started -> started != null ? Future.succeededFuture(started)
            : Future.failedFuture(new RagException(RagError.CONFLICT, "a sync of this source is running")));
  }

  public Future<Page<WebSource>> list(UUID tenantId, UUID knowledgeBaseId, UUID after, int limit) {
    return knowledgeBases.knowledgeBase(tenantId, knowledgeBaseId)
        .compose(kb -> repository.list(tenantId, knowledgeBaseId, after, limit));
  }

  public Future<WebSource> get(UUID tenantId, UUID knowledgeBaseId, UUID sourceId) {
    return repository.get(tenantId, knowledgeBaseId, sourceId);
  }

  public Future<Page<WebSourcePage>> pages(UUID tenantId, UUID knowledgeBaseId, UUID sourceId, UUID after,
                                           int limit) {
    return repository.get(tenantId, knowledgeBaseId, sourceId)
        .compose(source -> repository.pages(tenantId, sourceId, after, limit));
  }

  /** Removes the source and the documents it imported (with their chunks and vectors). */
  public Future<Void> delete(UUID tenantId, UUID knowledgeBaseId, UUID sourceId) {
    return repository.delete(tenantId, knowledgeBaseId, sourceId)
        .compose(documents -> deleteAll(tenantId, knowledgeBaseId, documents, 0));
  }

  /**
   * Starts the scheduled syncs that are due, up to {@value #SCHEDULED_AT_ONCE} running on this node; the
   * timer of {@link WebSyncVerticle} calls it. Completes when they have started, not when they end.
   */
  public Future<Integer> syncDue() {
    int room = SCHEDULED_AT_ONCE - scheduledRunning.get();
    return room <= 0 ? Future.succeededFuture(0)
        : repository.due(room).compose(due -> startEach(due, 0, 0));
  }

  public Future<Void> close() {
    return fetcher.close();
  }

  private Future<Integer> startEach(List<WebSourceRepository.Due> due, int index, int started) {
    if (index >= due.size() || scheduledRunning.get() >= SCHEDULED_AT_ONCE) {
      return Future.succeededFuture(started);
    }
    WebSourceRepository.Due next = due.get(index);
    scheduledRunning.incrementAndGet();
    return repository.claim(next.tenantId(), next.sourceId(), owner, LEASE).compose(claimed -> {
      if (claimed.isEmpty()) { // another node claimed it since
        scheduledRunning.decrementAndGet();
        return startEach(due, index + 1, started);
      }
      run(next.tenantId(), claimed.get()).onComplete(ended -> scheduledRunning.decrementAndGet());
      return startEach(due, index + 1, started + 1);
    }, failure -> {
      scheduledRunning.decrementAndGet();
      return Future.failedFuture(failure);
    });
  }

  // the claimed source (its sync running in the background), or null when another sync holds the lease
  private Future<WebSource> start(UUID tenantId, UUID sourceId) {
    return repository.claim(tenantId, sourceId, owner, LEASE).map(claimed -> {
      claimed.ifPresent(source -> run(tenantId, source));
      return claimed.orElse(null);
    });
  }

  /** One sync of a claimed source; never fails (the source records how it ended). */
  private Future<Void> run(UUID tenantId, WebSource source) {
    SyncTally tally = new SyncTally();
    List<Future<DocumentStatus>> ingestions = new ArrayList<>();
    boolean[] startFetched = {false};
    String[] startProblem = {"the start page could not be imported"};
    // the lease outlives a slow page or a long wait for ingestion: renewed on a timer as well as per page
    long renewal = vertx.setPeriodic(LEASE.toMillis() / 3, t -> repository.progress(tenantId, source.id(), owner,
        LEASE, tally));
    return repository.known(tenantId, source.id())
        .compose(known -> crawler.crawl(source.plan(), found -> {
              tally.reached();
              if (found.depth() == 0) {
                startFetched[0] = found.outcome() == Outcome.FETCHED;
                startProblem[0] = "the start page could not be imported: " + found.detail();
              }
              return page(tenantId, source, known, found, ingestions)
                  .recover(failure -> repository.recordPage(tenantId, source.id(), found.url(), found.depth(),
                      "failed", message(failure), null, null).map("failed"))
                  .compose(status -> {
                    tally.record(status);
                    return repository.progress(tenantId, source.id(), owner, LEASE, tally).<Void>mapEmpty();
                  });
            })
            // a sync whose start page failed removes nothing: an outage must not empty the knowledge base
            .compose(result -> (startFetched[0] ? removeUnreached(tenantId, source, known, result.urls(), tally)
                : Future.<Void>succeededFuture())
                .compose(v -> Future.join(ingestions))
                .transform(ignored -> repository.finish(tenantId, source.id(), owner, tally,
                    startFetched[0] ? "ready" : "failed", startFetched[0] ? result.note()
                        : result.note() != null ? result.note() : startProblem[0]))))
        .recover(failure -> {
          LOG.warn("sync of web source {} failed", source.id(), failure);
          return repository.finish(tenantId, source.id(), owner, tally, "failed", message(failure));
        })
        .otherwise(failure -> {
          LOG.warn("sync of web source {} could not record its end", source.id(), failure);
          return null;
        })
        .andThen(ended -> vertx.cancelTimer(renewal));
  }

  // one page's outcome recorded; answers the status counted for it
  private Future<String> page(UUID tenantId, WebSource source, Map<String, WebSourceRepository.Known> known,
                              Found found, List<Future<DocumentStatus>> ingestions) {
    WebSourceRepository.Known before = known.get(found.url());
    UUID sourceId = source.id();
    return switch (found.outcome()) {
      case SKIPPED -> repository.recordPage(tenantId, sourceId, found.url(), found.depth(), "skipped", found.detail(),
          null, null).map("skipped");
      case FAILED -> repository.recordPage(tenantId, sourceId, found.url(), found.depth(), "failed", found.detail(),
          null, null).map("failed");
      case GONE -> (before == null || before.documentId() == null ? Future.<Void>succeededFuture()
          : deleteDocument(tenantId, source.knowledgeBaseId(), before.documentId()))
          .compose(v -> repository.recordPage(tenantId, sourceId, found.url(), found.depth(), "failed",
              found.detail() + ": the page is gone", null, null))
          .map(before == null || before.documentId() == null ? "failed" : "removed");
      case FETCHED -> {
        byte[] body = found.page().body().getBytes();
        String hash = sha256(body);
        if (before != null && hash.equals(before.hash()) && "ready".equals(before.documentStatus())) {
          yield repository.recordPage(tenantId, sourceId, found.url(), found.depth(), "unchanged", null, null, null)
              .map("unchanged");
        }
        URI uri = URI.create(found.url());
        String name = PageNames.sourceName(uri.getPort() < 0 ? uri.getHost() : uri.getHost() + ":" + uri.getPort(),
            uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()), found.extension());
        String status = before == null || before.documentId() == null ? "added" : "updated";
        yield knowledgeBases.upload(tenantId, source.knowledgeBaseId(), name, found.page().body())
            .compose(upload -> {
              synchronized (ingestions) {
                ingestions.add(upload.completion());
              }
              return repository.recordPage(tenantId, sourceId, found.url(), found.depth(), status, null,
                  upload.accepted().id(), hash);
            })
            .map(status);
      }
    };
  }

  // pages the previous sync had that this one did not reach: their documents go
  private Future<Void> removeUnreached(UUID tenantId, WebSource source, Map<String, WebSourceRepository.Known> known,
                                       Set<String> reached, SyncTally tally) {
    Future<Void> chain = Future.succeededFuture();
    for (Map.Entry<String, WebSourceRepository.Known> page : known.entrySet()) {
      if (!reached.contains(page.getKey())) {
        UUID document = page.getValue().documentId();
        chain = chain.compose(v -> (document == null ? Future.<Void>succeededFuture()
                : deleteDocument(tenantId, source.knowledgeBaseId(), document))
            .compose(deleted -> repository.forgetPage(tenantId, source.id(), page.getKey()))
            .onSuccess(forgotten -> {
              if (document != null) {
                tally.dropped();
              }
            }));
      }
    }
    return chain;
  }

  private Future<Void> deleteAll(UUID tenantId, UUID knowledgeBaseId, List<UUID> documents, int index) {
    return index >= documents.size() ? Future.succeededFuture()
        : deleteDocument(tenantId, knowledgeBaseId, documents.get(index))
            .compose(v -> deleteAll(tenantId, knowledgeBaseId, documents, index + 1));
  }

  // a document deleted meanwhile (by its user) is no failure
  private Future<Void> deleteDocument(UUID tenantId, UUID knowledgeBaseId, UUID documentId) {
    return knowledgeBases.deleteDocument(tenantId, knowledgeBaseId, documentId)
        .recover(failure -> RagException.errorOf(failure) == RagError.NOT_FOUND ? Future.succeededFuture()
            : Future.failedFuture(failure));
  }

  private static String message(Throwable failure) {
    String message = failure.getMessage();
    return message == null ? failure.getClass().getSimpleName() : message;
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
