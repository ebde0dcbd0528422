package ai.deepchat.launcher;

import ai.deepchat.canary.CanaryServices;
import ai.deepchat.chat.ChatFeature;
import ai.deepchat.chat.api.ApiKeyAuth;
import ai.deepchat.chat.api.EmbeddingsApiModule;
import ai.deepchat.chat.api.KnowledgeBaseModule;
import ai.deepchat.console.ConsoleModule;
import ai.deepchat.datasets.DatasetApiModule;
import ai.deepchat.datasets.DatasetStore;
import ai.deepchat.export.ConversationExport;
import ai.deepchat.export.ExportApiModule;
import ai.deepchat.faq.FaqApiModule;
import ai.deepchat.faq.FaqTransfer;
import ai.deepchat.landing.LandingModule;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.http.HttpModule;
import ai.deepchat.policy.PolicyServices;
import ai.deepchat.rag.Rag;
import ai.deepchat.rag.embed.EmbeddingModels;
import ai.deepchat.widget.WidgetScriptModule;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The HTTP modules of a node's gateway instances. Made once per node (blocking: it reads secrets and
 * the widget script), then asked once per gateway instance, on that instance's event loop.
 *
 * <p>Shared by every instance, because they are immutable or thread-safe and must be node-wide: the
 * widget script, the console (secret, message bundles, super-admin creation; it builds each
 * instance's routes when mounted), and what the per-instance modules are built on: request limits,
 * audit log, rollout routing, RAG. New per instance, because they hold per-event-loop machinery or
 * are just cheap: the chat API and widget (turn clients, token verifiers), knowledge bases, rollout
 * admin, visitor deletion.
 */
final class GatewayModules implements Supplier<List<HttpModule>> {

  private final Platform platform;
  private final PolicyServices policy;
  private final CanaryServices canary;
  private final Rag rag;
  private final WidgetScriptModule widgetScript;
  private final ConsoleModule console;
  private final Supplier<List<HttpModule>> chat;
  private final FaqApiModule faq;
  private final LandingModule landing;
  private final ExportApiModule export;

  /** {@code rag} may be null (the console then says uploads are unavailable). Blocking. */
  GatewayModules(Vertx vertx, Platform platform, PolicyServices policy, CanaryServices canary, Rag rag) {
    this.platform = platform;
    this.policy = policy;
    this.canary = canary;
    this.rag = rag;
    this.widgetScript = new WidgetScriptModule();
    this.console = new ConsoleModule(vertx, platform, policy.audit(), canary.admin(),
        rag == null ? null : new RagKnowledgeBackend(rag));
    this.chat = ChatFeature.httpModules(vertx, platform, policy, canary);
    this.faq = new FaqApiModule(new ApiKeyAuth(platform.database()), policy.limits(),
        new FaqTransfer(vertx, platform.database(), policy.audit()));
    var seed = platform.config().seed();
    this.landing = new LandingModule(vertx, platform.database(),
        seed.enabled() ? java.util.Optional.of(seed.tenantSlug()) : java.util.Optional.empty(),
        new ai.deepchat.console.web.I18n());
    this.export = new ExportApiModule(new ApiKeyAuth(platform.database()), policy.limits(),
        new ConversationExport(platform.database(), policy.audit()));
  }

  @Override
  public List<HttpModule> get() {
    List<HttpModule> modules = new ArrayList<>(policy.httpModules(platform));
    modules.add(widgetScript);
    modules.add(console);
    modules.addAll(chat.get());
    modules.add(new KnowledgeBaseModule(new ApiKeyAuth(platform.database()), rag, policy.limits()));
    modules.add(new EmbeddingsApiModule(platform, policy.limits(), EmbeddingModels.all()));
    modules.add(canary.httpModule(platform, policy.limits()));
    modules.add(faq);
    modules.add(landing);
    modules.add(new DatasetApiModule(new ApiKeyAuth(platform.database()), policy.limits(),
        new DatasetStore(platform.database(), policy.audit())));
    modules.add(export);
    return modules;
  }
}
