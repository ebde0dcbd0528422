package ai.deepchat.platform.http;

import io.vertx.ext.web.Router;

/**
 * A feature's HTTP routes (API, console, widget, knowledge bases), mounted by the gateway on its one
 * router. Implementations register routes only; the gateway owns the server, request ids, body limits
 * and error pages.
 */
public interface HttpModule {

  void mount(Router router);
}
