/**
 * HF chat templates (jinja2) rendered with Jinjava, adapted to render like HF's jinja2 environment.
 * {@link ai.deepchat.tokenizer.template.ChatTemplate} is the entry point; the rest adapts Jinjava.
 */
package ai.deepchat.tokenizer.template;
