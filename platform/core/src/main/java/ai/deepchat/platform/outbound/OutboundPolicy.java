package ai.deepchat.platform.outbound;

import ai.deepchat.platform.concurrent.WorkerPools;
import ai.deepchat.platform.config.PlatformConfig;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The one rule for every URL a tenant controls (model endpoints, their fallbacks, plugin calls): http
 * or https only, no user info, a host in canonical form (no decimal, octal, hex or shortened IPv4, no
 * IPv6 zone), and every address the host resolves to public. The operator may allow-list endpoints
 * ({@code OUTBOUND_ALLOWED_HOSTS}, plus the host of {@code DEEPSEEK_BASE_URL}) that may be internal,
 * such as a vLLM next to the node. {@link #check} needs no lookup (creation time); {@link #resolve}
 * looks the host up once, checks every answer and pins the connection to the checked address.
 */
public final class OutboundPolicy {

  private static final Pattern CANONICAL_IPV4 =
      Pattern.compile("((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");
  private static final Pattern NUMERIC_LABEL = Pattern.compile("\\d+|0x[0-9a-f]*");

  private final Set<String> allowed;
  private final HostResolver resolver;
  /** URLs that passed {@link #check} (a refusal is not kept: it throws). */
  private final Cache<String, OutboundUrl> passed = Caffeine.newBuilder().maximumSize(1_024).build();

  /** {@code allowedHosts}: entries {@code host} (any port) or {@code host:port} ({@code [v6]:port}). */
  public OutboundPolicy(List<String> allowedHosts, HostResolver resolver) {
    this.allowed = allowedHosts.stream().map(OutboundPolicy::normalizeEntry).collect(Collectors.toUnmodifiableSet());
    this.resolver = resolver;
  }

  /** The node's policy: OUTBOUND_ALLOWED_HOSTS and the operator's own DEEPSEEK_BASE_URL endpoint. */
  public static OutboundPolicy of(PlatformConfig config) {
    List<String> allowed = new ArrayList<>(config.policy().outboundAllowedHosts());
    URI base = URI.create(config.chat().deepseekBaseUrl());
    int port = base.getPort() > 0 ? base.getPort() : "https".equalsIgnoreCase(base.getScheme()) ? 443 : 80;
    allowed.add(base.getHost() + ":" + port);
    return new OutboundPolicy(allowed, HostResolver.SYSTEM);
  }

  /** No allow-list: every internal address refused. */
  public static OutboundPolicy strict() {
    return new OutboundPolicy(List.of(), HostResolver.SYSTEM);
  }

  /** Checks what can be checked without a lookup; throws {@link OutboundRefusedException} with the reason. */
  public OutboundUrl check(String url) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new OutboundRefusedException("not a valid URL (" + e.getReason() + ")");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("https") && !scheme.equals("http")) {
      throw new OutboundRefusedException("only http and https URLs are allowed");
    }
    if (uri.getRawUserInfo() != null || uri.getRawAuthority() != null && uri.getRawAuthority().contains("@")) {
      throw new OutboundRefusedException("URLs with user info (user@host) are refused");
    }
    if (uri.getHost() == null) {
      throw new OutboundRefusedException("the URL has no valid host name");
    }
    if (uri.getRawFragment() != null) {
      throw new OutboundRefusedException("URLs with a fragment (#) are refused");
    }
    String host = normalizeHost(uri.getHost());
    boolean https = scheme.equals("https");
    int port = uri.getPort() > 0 ? uri.getPort() : https ? 443 : 80;
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
    OutboundUrl checked = new OutboundUrl(https, host, port, path + query, literal(host));
    if (!allowListed(checked)) {
      if (checked.literal() != null) {
        refuseInternal(checked, checked.literal(), AddressRanges.internalReason(checked.literal()));
      } else if (host.equals("localhost") || host.endsWith(".localhost")) {
        throw new OutboundRefusedException(host + " names this machine (loopback); " + hint());
      }
    } else if (checked.literal() != null) {
      refuseInternal(checked, checked.literal(), AddressRanges.alwaysRefused(checked.literal()));
    }
    return checked;
  }

  /**
   * Blocking: looks the host up (IP literals need none), refuses when any answer is internal and the
   * endpoint is not allow-listed, and pins the first answer. Run it off the event loop ({@link #resolve}).
   */
  public PinnedTarget pin(OutboundUrl url) {
    List<InetAddress> all;
    if (url.literal() != null) {
      all = List.of(url.literal());
    } else {
      try {
        all = resolver.resolve(url.host());
      } catch (UnknownHostException e) {
        throw new OutboundRefusedException("host " + url.host() + " does not resolve");
      }
      if (all.isEmpty()) {
        throw new OutboundRefusedException("host " + url.host() + " does not resolve");
      }
    }
    boolean trusted = allowListed(url);
    for (InetAddress a : all) {
      refuseInternal(url, a, trusted ? AddressRanges.alwaysRefused(a) : AddressRanges.internalReason(a));
    }
    return new PinnedTarget(url, all.get(0));
  }

  /**
   * {@link #check} then {@link #pin} on the node's {@code outbound-lookups} pool (a slow resolver then
   * holds only threads meant for waiting); fails with {@link OutboundRefusedException}. Always completes
   * later, never inside the call, so callers may rely on their state being set.
   */
  public Future<PinnedTarget> resolve(Vertx vertx, String url) {
    OutboundUrl checked;
    try {
      // no I/O, and the same answer for the same URL under this policy: a model's URL is checked once
      checked = passed.get(url, this::check);
    } catch (RuntimeException refused) {
      return later(vertx, () -> {
        throw refused;
      });
    }
    return resolve(vertx, checked);
  }

  /**
   * {@link #pin} on the lookup pool, for a URL the caller checked (and narrowed by rules of its own). An
   * address (an IP literal, e.g. a model server next to the node) needs no lookup, so it is pinned on the
   * caller's context instead: no worker thread and no pool handle per request.
   */
  public Future<PinnedTarget> resolve(Vertx vertx, OutboundUrl checked) {
    if (checked.literal() != null) {
      return later(vertx, () -> pin(checked));
    }
    return WorkerPools.of(vertx).runOnce(WorkerPools.Kind.OUTBOUND_LOOKUPS, () -> pin(checked));
  }

  /** {@code task} on the caller's context, on a later turn of it (never inside the call). */
  private static Future<PinnedTarget> later(Vertx vertx, Callable<PinnedTarget> task) {
    Promise<PinnedTarget> done = Promise.promise();
    vertx.runOnContext(v -> {
      try {
        done.complete(task.call());
      } catch (Exception e) {
        done.fail(e);
      }
    });
    return done.future();
  }

  /** Whether the operator listed this endpoint (OUTBOUND_ALLOWED_HOSTS, or DEEPSEEK_BASE_URL's host). */
  public boolean allowListed(OutboundUrl url) {
    return allowed.contains(url.authority()) || allowed.contains(url.host().indexOf(':') >= 0
        ? "[" + url.host() + "]" : url.host());
  }

  private static void refuseInternal(OutboundUrl url, InetAddress a, String reason) {
    if (reason != null) {
      throw new OutboundRefusedException("host " + url.host() + " is a " + reason + " address ("
          + a.getHostAddress() + "); " + hint());
    }
  }

  private static String hint() {
    return "only public addresses may be called (the operator may allow-list internal endpoints)";
  }

  /** The address of an IP literal host; refuses numeric hosts in any form but canonical dotted decimal. */
  private static InetAddress literal(String host) {
    try {
      if (host.indexOf(':') >= 0) {
        if (host.indexOf('%') >= 0) {
          throw new OutboundRefusedException("IPv6 zone ids are refused");
        }
        return InetAddress.getByName(host); // a literal: no lookup
      }
      String[] labels = host.split("\\.");
      if (labels.length > 0 && NUMERIC_LABEL.matcher(labels[labels.length - 1]).matches()) {
        if (!CANONICAL_IPV4.matcher(host).matches()) {
          throw new OutboundRefusedException("host " + host + " is an IPv4 address in a non-canonical form"
              + " (decimal, octal, hex or shortened); write it as four decimal numbers");
        }
        return InetAddress.getByName(host);
      }
      return null;
    } catch (UnknownHostException e) {
      throw new OutboundRefusedException("host " + host + " is not a valid IP address");
    }
  }

  /** Lower case, no IPv6 brackets, no trailing dot: how hosts are compared. */
  public static String normalizeHost(String host) {
    String h = host.trim().toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
  }

  private static String normalizeEntry(String entry) {
    String e = entry.trim().toLowerCase(Locale.ROOT);
    int colon = e.lastIndexOf(':');
    boolean hasPort = colon > 0 && (e.startsWith("[") ? e.lastIndexOf(']') < colon : e.indexOf(':') == colon);
    if (!hasPort) {
      String h = normalizeHost(e);
      return h.indexOf(':') >= 0 ? "[" + h + "]" : h;
    }
    String h = normalizeHost(e.substring(0, colon));
    return (h.indexOf(':') >= 0 ? "[" + h + "]" : h) + e.substring(colon);
  }
}
