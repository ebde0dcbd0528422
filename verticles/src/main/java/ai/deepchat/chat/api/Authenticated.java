package ai.deepchat.chat.api;

import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;

import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Authentication as the first handler of a route, before its body handler: the request is paused
 * while the credentials (headers only) are checked, so an anonymous client's body is never buffered
 * and it never reaches the route's stream slot or rate limits. The body handler that follows resumes it.
 */
public final class Authenticated {

  private Authenticated() {
  }

  public static <T> void first(RoutingContext ctx, Function<RoutingContext, Future<T>> authenticate, Consumer<T> keep) {
    ctx.request().pause();
    authenticate.apply(ctx).onComplete(ar -> {
      if (ar.failed()) {
        // let the request end (a body still coming is hung up on once answered: BodyDeadlineHandler)
        ctx.request().resume();
        RateLimited.send(ctx, ar.cause()); // 429 with Retry-After when it was a rate limit
        return;
      }
      keep.accept(ar.result());
      ctx.next();
    });
  }
}
