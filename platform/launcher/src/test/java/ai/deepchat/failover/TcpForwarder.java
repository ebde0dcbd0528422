package ai.deepchat.failover;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP relay from every address of this host on one port to a loopback port: lets processes in other
 * network namespaces reach a server (PostgreSQL) that listens on loopback only. One thread per
 * direction per connection; test-sized.
 */
final class TcpForwarder implements AutoCloseable {

  private final ServerSocket server;
  private final int target;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();

  private TcpForwarder(ServerSocket server, int target) {
    this.server = server;
    this.target = target;
  }

  static TcpForwarder start(int port, int target) throws IOException {
    ServerSocket server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress("0.0.0.0", port));
    TcpForwarder f = new TcpForwarder(server, target);
    Thread accept = new Thread(f::acceptLoop, "relay-accept-" + port);
    accept.setDaemon(true);
    accept.start();
    return f;
  }

  int port() {
    return server.getLocalPort();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket in = server.accept();
        Socket out;
        try {
          out = new Socket("127.0.0.1", target);
        } catch (IOException refused) {
          closeQuietly(in);
          continue;
        }
        in.setTcpNoDelay(true);
        out.setTcpNoDelay(true);
        open.add(in);
        open.add(out);
        pump(in, out);
        pump(out, in);
      } catch (IOException e) {
        // closed, or the target refused: the client sees its connection end
      }
    }
  }

  private void pump(Socket from, Socket to) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[16384];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buf)) >= 0) {
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (IOException ended) {
        // either side closed
      } finally {
        closeQuietly(from);
        closeQuietly(to);
      }
    }, "relay-pump");
    t.setDaemon(true);
    t.start();
  }

  private void closeQuietly(Socket s) {
    open.remove(s);
    try {
      s.close();
    } catch (IOException ignored) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    open.forEach(this::closeQuietly);
  }
}
