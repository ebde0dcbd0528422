package ai.deepchat.platform.http;

import io.vertx.ext.web.Router;

/**
 * A feature's HTTP routes (API, console, widget, knowledge bases), mounted by the gateway on its
 * router. Implementations register routes only; the gateway owns the server, request ids, body limits
 * and error pages. A node runs several gateway instances, each on its own event loop, and mounts on
 * each: a module mounted on more than one router must be thread-safe (what {@link #mount} creates
 * belongs to that router's instance).
 */
public interface HttpModule {

  void mount(Router router);
}
