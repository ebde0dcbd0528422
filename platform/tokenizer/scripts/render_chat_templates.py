#!/usr/bin/env python3
"""Renders tool conversations with real Jinja2, the way Hugging Face's apply_chat_template does.

The output, src/test/resources/templates/golden-chats.json, is what ChatTemplateGoldenTest expects our
Jinjava-based ChatTemplate to produce byte for byte. CI does not run this script (Jinja2 is not
guaranteed there); its output is committed. Regenerate after changing a template or a conversation:

    python3 render_chat_templates.py > ../src/test/resources/templates/golden-chats.json

The environment copies transformers' chat-template setup: ImmutableSandboxedEnvironment with
trim_blocks and lstrip_blocks and the loopcontrols extension, its tojson filter (json.dumps with
ensure_ascii=False and indent/separators/sort_keys passed through), raise_exception and strftime_now.
A template that does not read `tools` (DeepSeek-V3's) gets the tool definitions at the end of the
system prompt, in the layout of vLLM's DeepSeek-V3 tool template, exactly as ChatTemplate does.
"""
import json
import os
import sys
from datetime import datetime

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
RESOURCES = os.path.join(HERE, "..", "src", "test", "resources")
TEMPLATES = {
    "deepseek-v3": os.path.join(RESOURCES, "fixtures", "tokenizers", "deepseek-v3", "tokenizer_config.json"),
    # a template that reads `tools` itself (written for the test: no such fixture model ships one)
    "tools-variable": os.path.join(RESOURCES, "templates", "tools-variable.jinja"),
}


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return datetime.now().strftime(fmt)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def token_text(value):
    return value["content"] if isinstance(value, dict) else value


def deepseek_tool_section(tools):
    """The "# Tools" section ChatTemplate appends to the system prompt (DeepSeekToolPrompt)."""
    out = ("\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
           "You are provided with function signatures within <tools></tools> XML tags:\n<tools>")
    for tool in tools:
        out += "\n" + tojson(tool)
    out += "\n</tools>\n\n"
    out += "For function call returns, you should first print <｜tool▁calls▁begin｜>"
    out += "For each function call, you should return object like:\n"
    out += "<｜tool▁call▁begin｜>function<｜tool▁sep｜><function_name>\n```json\n<function_arguments_in_json_format>\n```<｜tool▁call▁end｜>"
    out += "At the end of function call returns, you should print <｜tool▁calls▁end｜><｜end▁of▁sentence｜>"
    return out


def with_tool_section(messages, tools):
    messages = [dict(m) for m in messages]
    section = deepseek_tool_section(tools)
    for m in reversed(messages):
        if m["role"] == "system":
            m["content"] = m["content"] + section
            return messages
    return [{"role": "system", "content": section}] + messages


WEATHER = {"type": "function", "function": {
    "name": "get_weather",
    "description": "Current weather for a city. Say \"unknown\" when unsure.",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "城市名 (city name)"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7, "default": 1},
        "threshold": {"type": "number", "default": 0.5},
        "detailed": {"type": "boolean", "default": False},
    }, "required": ["city"], "additionalProperties": False}}}
SEARCH = {"type": "function", "function": {
    "name": "search-docs_v2",
    "parameters": {"type": "object", "properties": {
        "query": {"type": "string"},
        "filters": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"}}}},
    }}}}
NOW = {"type": "function", "function": {"name": "now", "description": "The current time."}}


def call(cid, name, args):
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}


CONVERSATIONS = [
    ("plain", [{"role": "user", "content": "你好"}], None),
    ("system", [{"role": "system", "content": "You are a helpful agent for ACME."},
                {"role": "user", "content": "How do I return an item?"}], None),
    ("multi-turn", [{"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hello! 👋"},
                    {"role": "system", "content": "Answer in French."},
                    {"role": "user", "content": "And now?"}], None),
    ("tools-offered", [{"role": "system", "content": "You are a weather bot."},
                       {"role": "user", "content": "Weather in Paris?"}], [WEATHER, SEARCH, NOW]),
    ("tools-offered-no-system", [{"role": "user", "content": "What time is it?"}], [NOW]),
    ("single-call-and-result", [
        {"role": "user", "content": "Weather in 北京?"},
        {"role": "assistant", "content": None, "tool_calls": [
            call("call_1", "get_weather", "{\"city\": \"北京\", \"unit\": \"celsius\"}")]},
        {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\": 21.5, \"sky\": \"☀️\"}"}], [WEATHER]),
    ("parallel-calls-and-results", [
        {"role": "system", "content": "Use tools."},
        {"role": "user", "content": "Weather in Paris and Rome, and the time."},
        {"role": "assistant", "content": None, "tool_calls": [
            call("call_a", "get_weather", "{\"city\": \"Paris\"}"),
            call("call_b", "get_weather", "{\"city\": \"Rome\"}"),
            call("call_c", "now", "{}")]},
        {"role": "tool", "tool_call_id": "call_a", "content": "12 C"},
        {"role": "tool", "tool_call_id": "call_b", "content": "18 C"},
        {"role": "tool", "tool_call_id": "call_c", "content": "10:42"}], [WEATHER, NOW]),
    ("result-then-answer-then-new-question", [
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": None, "tool_calls": [call("call_1", "get_weather", "{\"city\": \"Oslo\"}")]},
        {"role": "tool", "tool_call_id": "call_1", "content": "-3 C"},
        {"role": "assistant", "content": "It is -3 °C in Oslo."},
        {"role": "user", "content": "And in Bergen?"},
        {"role": "assistant", "content": None, "tool_calls": [call("call_2", "get_weather", "{\"city\": \"Bergen\"}")]},
        {"role": "tool", "tool_call_id": "call_2", "content": "4 C"}], [WEATHER]),
    ("tools-with-answered-history", [
        {"role": "user", "content": "Find the refund policy"},
        {"role": "assistant", "content": None, "tool_calls": [
            call("call_9", "search-docs_v2", "{\"query\": \"refund\", \"filters\": [{\"k\": \"policy\"}]}")]},
        {"role": "tool", "tool_call_id": "call_9", "content": "Refunds within 30 days."},
        {"role": "assistant", "content": "Refunds are accepted within 30 days."},
        {"role": "user", "content": "Thanks"}], [SEARCH]),
]


def main():
    env = environment()
    cases = []
    for template_name, path in TEMPLATES.items():
        with open(path, encoding="utf-8") as f:
            config = json.load(f) if path.endswith(".json") else {"chat_template": f.read()}
        source = config["chat_template"]
        template = env.from_string(source)
        reads_tools = "tools" in source
        specials = {k: token_text(config[k]) for k in ("bos_token", "eos_token") if config.get(k)}
        for name, messages, tools in CONVERSATIONS:
            for generation_prompt in (True, False):
                rendered_messages = messages
                variables = {}
                if tools and reads_tools:
                    variables["tools"] = tools
                elif tools:
                    rendered_messages = with_tool_section(messages, tools)
                text = template.render(messages=rendered_messages, add_generation_prompt=generation_prompt,
                                       **variables, **specials)
                cases.append({"template": template_name, "name": name, "messages": messages, "tools": tools,
                              "add_generation_prompt": generation_prompt, "rendered": text})
    json.dump({"reference": "jinja2 " + jinja2.__version__ + ", HF apply_chat_template environment",
               "cases": cases}, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
