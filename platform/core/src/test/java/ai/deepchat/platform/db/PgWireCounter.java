package ai.deepchat.platform.db;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A loopback TCP proxy between a pool and PostgreSQL that reads the wire protocol as it passes and counts,
 * over every connection through it: commands (ReadyForQuery messages, one per Sync or simple query) and
 * round trips (a Sync or simple query sent while every earlier one was answered, i.e. the client waited for
 * PostgreSQL before sending it; one pipelined behind an unanswered one is not a round trip). Both directions
 * of every connection are handled on the proxy's one event loop, in the order the bytes arrive.
 */
public final class PgWireCounter {

  private final Vertx vertx;
  private final String targetHost;
  private final int targetPort;
  private final AtomicLong commands = new AtomicLong();
  private final AtomicLong roundTrips = new AtomicLong();
  private NetServer server;

  public PgWireCounter(Vertx vertx, String targetHost, int targetPort) {
    this.vertx = vertx;
    this.targetHost = targetHost;
    this.targetPort = targetPort;
  }

  /** Listens on a free loopback port; the future gives it. */
  public Future<Integer> start() {
    NetClient client = vertx.createNetClient();
    server = vertx.createNetServer().connectHandler(front -> {
      front.pause();
      client.connect(targetPort, targetHost).onComplete(ar -> {
        if (ar.failed()) {
          front.close();
          return;
        }
        new Link(front, ar.result()).run();
      });
    });
    return server.listen(0, "127.0.0.1").map(NetServer::actualPort);
  }

  public long commands() {
    return commands.get();
  }

  public long roundTrips() {
    return roundTrips.get();
  }

  public Future<Void> close() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  /** One client connection and its server connection. */
  private final class Link {
    private final NetSocket front;
    private final NetSocket back;
    private Buffer fromClient = Buffer.buffer(); // bytes of a message not yet whole
    private Buffer fromServer = Buffer.buffer();
    private boolean started; // the client's startup message (no type byte) has passed
    private int unanswered; // Syncs and simple queries sent, not yet answered by ReadyForQuery

    Link(NetSocket front, NetSocket back) {
      this.front = front;
      this.back = back;
    }

    void run() {
      front.handler(b -> {
        back.write(b);
        clientBytes(b);
      });
      back.handler(b -> {
        front.write(b);
        serverBytes(b);
      });
      front.closeHandler(v -> back.close());
      back.closeHandler(v -> front.close());
      front.resume();
    }

    private void clientBytes(Buffer b) {
      fromClient.appendBuffer(b);
      int pos = 0;
      while (true) {
        if (!started) {
          if (fromClient.length() - pos < 4) {
            break;
          }
          int len = fromClient.getInt(pos);
          if (fromClient.length() - pos < len) {
            break;
          }
          pos += len;
          started = true;
          continue;
        }
        if (fromClient.length() - pos < 5) {
          break;
        }
        byte type = fromClient.getByte(pos);
        int len = fromClient.getInt(pos + 1);
        if (fromClient.length() - pos < 1 + len) {
          break;
        }
        if (type == 'S' || type == 'Q') {
          if (unanswered == 0) {
            roundTrips.incrementAndGet();
          }
          unanswered++;
        }
        pos += 1 + len;
      }
      fromClient = rest(fromClient, pos);
    }

    private void serverBytes(Buffer b) {
      fromServer.appendBuffer(b);
      int pos = 0;
      while (fromServer.length() - pos >= 5) {
        byte type = fromServer.getByte(pos);
        int len = fromServer.getInt(pos + 1);
        if (fromServer.length() - pos < 1 + len) {
          break;
        }
        if (type == 'Z') {
          commands.incrementAndGet();
          unanswered = Math.max(0, unanswered - 1); // the one after authentication answers no Sync
        }
        pos += 1 + len;
      }
      fromServer = rest(fromServer, pos);
    }

    private Buffer rest(Buffer buf, int consumed) {
      return consumed == 0 ? buf : Buffer.buffer().appendBuffer(buf, consumed, buf.length() - consumed);
    }
  }
}
