package ai.deepchat.rag.index;

import ai.deepchat.platform.concurrent.CallerContext;
import ai.deepchat.rag.faiss.FaissException;
import ai.deepchat.rag.faiss.FaissIndex;
import ai.deepchat.rag.faiss.Metric;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.LongStream;

/**
 * One FAISS index per tenant knowledge base and embedding model, on disk under
 * {@code <dataDir>/faiss/<tenant>/<kb>.<model>.index} and cached open: while a knowledge base is
 * re-embedded, the new model's index is built beside the one that keeps serving searches. FAISS sits outside row-level security, so indexes are keyed by tenant and every
 * hit must still be checked against PostgreSQL by the caller.
 *
 * <p>An index is rebuilt from PostgreSQL's stored embeddings when its file is missing, fails its
 * checksum, cannot be read, or holds a different number of vectors than the database. Searches run
 * concurrently (FaissIndex's read lock); updates of one knowledge base are serialized here.
 */
public final class VectorStore implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(VectorStore.class);

  /** A vector hit: inner product of normalized vectors, i.e. cosine similarity. */
  public record Hit(long chunkId, float score) {
  }

  private record Key(UUID tenantId, UUID knowledgeBaseId, String model) {
  }

  private final IndexFiles files;
  private final String factory;
  private final WorkerExecutor worker;
  private final VectorSource source;
  private final Map<Key, Future<FaissIndex>> open = new ConcurrentHashMap<>();
  private final Map<Key, Object> writeLocks = new ConcurrentHashMap<>();

  public VectorStore(Path dataDir, String factory, WorkerExecutor worker, VectorSource source) {
    this.files = new IndexFiles(dataDir);
    this.factory = factory;
    this.worker = worker;
    this.source = source;
  }

  public Path indexFile(UUID tenantId, UUID knowledgeBaseId, String model) {
    return files.index(tenantId, knowledgeBaseId, model);
  }

  public Future<List<Hit>> search(UUID tenantId, UUID knowledgeBaseId, String model, int dimension,
                                  float[] query, int k) {
    return index(new Key(tenantId, knowledgeBaseId, model), dimension)
        .compose(index -> worker.executeBlocking(() -> {
          try {
            return hits(index, query, k);
          } catch (IllegalStateException e) {
            if (!index.isClosed()) {
              throw e;
            }
            // The knowledge base switched embedding model (or was deleted) after this search picked the
            // index: the old model's index is gone, so this one query has no vector hits (lexical still
            // answers); the next query uses the new model's index.
            LOG.debug("index of knowledge base {} ({}) closed under a search", knowledgeBaseId, model);
            return List.<Hit>of();
          }
        }, false));
  }

  private static List<Hit> hits(FaissIndex index, float[] query, int k) {
    int n = (int) Math.min(k, index.ntotal());
    List<Hit> hits = new ArrayList<>(n);
    if (n == 0) {
      return hits;
    }
    FaissIndex.SearchResult result = index.search(query, n);
    for (int r = 0; r < n; r++) {
      if (result.id(0, r) >= 0) {
        hits.add(new Hit(result.id(0, r), result.distance(0, r)));
      }
    }
    return hits;
  }

  /**
   * Removes {@code removeIds} and (re)adds {@code addIds}, then saves the index. Adding an id that is
   * already there replaces it, so a replayed update is harmless.
   */
  public Future<Void> update(UUID tenantId, UUID knowledgeBaseId, String model, int dimension,
                             long[] removeIds, long[] addIds, float[] addVectors) {
    Key key = new Key(tenantId, knowledgeBaseId, model);
    return index(key, dimension).compose(index -> worker.<Void>executeBlocking(() -> {
      synchronized (writeLocks.computeIfAbsent(key, k -> new Object())) {
        long[] gone = LongStream.concat(LongStream.of(removeIds), LongStream.of(addIds)).toArray();
        if (gone.length > 0) {
          index.remove(gone);
        }
        if (addIds.length > 0) {
          index.add(addVectors, addIds);
        }
        save(key, index);
      }
      return null;
    }, false)).recover(failure -> {
      // The database already holds the change: forget this copy so the next use rebuilds from it.
      LOG.warn("index update of knowledge base {} failed; it will be rebuilt", knowledgeBaseId, failure);
      return evict(key).transform(ignored -> Future.failedFuture(failure));
    });
  }

  /** Closes and deletes every index of a deleted knowledge base. */
  public Future<Void> drop(UUID tenantId, UUID knowledgeBaseId) {
    List<Future<Void>> closed = open.keySet().stream()
        .filter(key -> key.tenantId().equals(tenantId) && key.knowledgeBaseId().equals(knowledgeBaseId))
        .map(this::evict).toList();
    return Future.join(closed).transform(ignored -> worker.executeBlocking(() -> {
      for (Path file : files.all(tenantId, knowledgeBaseId)) {
        IndexFiles.delete(file);
      }
      return null;
    }, false));
  }

  /** Closes and deletes the index of one model: the old one after a re-embedding, or an abandoned new one. */
  public Future<Void> drop(UUID tenantId, UUID knowledgeBaseId, String model) {
    return evict(new Key(tenantId, knowledgeBaseId, model)).compose(ignored -> worker.executeBlocking(() -> {
      IndexFiles.delete(files.index(tenantId, knowledgeBaseId, model));
      return null;
    }, false));
  }

  /**
   * Builds the index of {@code model} from the vectors stored for it and saves it, without opening it
   * for searches: the re-embedding's index, ready before the knowledge base switches to it. A chunk
   * changed between this and the switch makes the saved file disagree with the database, and the first
   * search rebuilds it.
   */
  public Future<Void> build(UUID tenantId, UUID knowledgeBaseId, String model, int dimension) {
    Key key = new Key(tenantId, knowledgeBaseId, model);
    return evict(key).compose(ignored -> rebuild(key, dimension))
        .compose(index -> worker.executeBlocking(() -> {
          index.close();
          return null;
        }, false));
  }

  private Future<Void> evict(Key key) {
    Future<FaissIndex> loaded = open.remove(key);
    if (loaded == null) {
      return Future.succeededFuture();
    }
    // close() waits for running searches and frees native memory: not on an event loop
    return loaded.transform(ar -> ar.failed() ? Future.succeededFuture()
        : worker.<Void>executeBlocking(() -> {
          ar.result().close();
          return null;
        }, false));
  }

  private Future<FaissIndex> index(Key key, int dimension) {
    Future<FaissIndex> loaded = open.computeIfAbsent(key, k -> load(k, dimension));
    // the open index is shared by the retriever and every gateway instance: continue on the caller's context
    return CallerContext.bind(loaded).transform(ar -> {
      if (ar.failed()) {
        open.remove(key, loaded);
        return Future.failedFuture(ar.cause());
      }
      if (ar.result().dimension() != dimension) {
        // The knowledge base changed embedding model: the stored vectors decide.
        return evict(key).compose(ignored -> index(key, dimension));
      }
      return Future.succeededFuture(ar.result());
    });
  }

  private Future<FaissIndex> load(Key key, int dimension) {
    Path file = files.index(key.tenantId(), key.knowledgeBaseId(), key.model());
    return source.count(key.tenantId(), key.knowledgeBaseId(), key.model())
        .compose(expected -> worker.executeBlocking(() -> readIfValid(file, dimension, expected), false))
        .compose(index -> index != null ? Future.succeededFuture(index) : rebuild(key, dimension));
  }

  private static FaissIndex readIfValid(Path file, int dimension, long expected) throws IOException {
    if (!Files.exists(file)) {
      return null;
    }
    if (!IndexFiles.intact(file)) {
      LOG.warn("index {} fails its checksum; rebuilding from the database", file);
      return null;
    }
    FaissIndex index;
    try {
      index = FaissIndex.read(file);
    } catch (FaissException e) {
      LOG.warn("index {} is unreadable ({}); rebuilding from the database", file, e.getMessage());
      return null;
    }
    if (index.dimension() != dimension || index.ntotal() != expected) {
      LOG.warn("index {} holds {} vectors of dimension {}, the database {} of {}; rebuilding", file,
          index.ntotal(), index.dimension(), expected, dimension);
      index.close();
      return null;
    }
    return index;
  }

  private Future<FaissIndex> rebuild(Key key, int dimension) {
    return source.snapshot(key.tenantId(), key.knowledgeBaseId(), key.model(), dimension)
        .compose(snapshot -> worker.executeBlocking(() -> {
          FaissIndex index = FaissIndex.create(dimension, factory, Metric.INNER_PRODUCT);
          try {
            if (snapshot.ids().length > 0) {
              index.add(snapshot.vectors(), snapshot.ids());
            }
            synchronized (writeLocks.computeIfAbsent(key, k -> new Object())) {
              save(key, index);
            }
            LOG.info("rebuilt index of knowledge base {} with {} vectors", key.knowledgeBaseId(),
                snapshot.ids().length);
            return index;
          } catch (RuntimeException | IOException e) {
            index.close();
            throw e;
          }
        }, false));
  }

  private void save(Key key, FaissIndex index) throws IOException {
    Path file = files.index(key.tenantId(), key.knowledgeBaseId(), key.model());
    Files.createDirectories(file.getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    index.write(tmp);
    IndexFiles.commit(tmp, file);
  }

  @Override
  public void close() {
    for (Key key : List.copyOf(open.keySet())) {
      Future<FaissIndex> loaded = open.remove(key);
      if (loaded != null && loaded.succeeded()) {
        loaded.result().close();
      }
    }
  }
}
