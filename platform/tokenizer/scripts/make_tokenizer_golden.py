#!/usr/bin/env python3
"""Regenerates golden.json for the tokenizer tests from Hugging Face tokenizers + transformers.

It documents where src/test/resources/fixtures/tokenizers/<model>/golden.json comes from; the build
machines cannot install HF, so the Java tests only read its output. Run it where HF is installed:

    pip install "transformers>=4.46" tokenizers
    python make_tokenizer_golden.py path/to/DeepSeek-V3 > golden.json

The model folder needs tokenizer.json and tokenizer_config.json (with chat_template).
"""
import json
import sys

from tokenizers import Tokenizer
from transformers import AutoTokenizer

# Chinese, English, emoji split across byte-level tokens, whitespace runs, code, digit grouping,
# special-token text inside user input, Latin accents, the empty string and a long single-char run.
TEXTS = [
    "Hello, world!",
    "如何退货？请在7天内申请。",
    "DeepSeek-R1 是一个推理模型 (reasoning model) 🤖",
    "  leading spaces and\ttabs\nnew lines\n\n",
    "def f(x):\n    return x**2 + 3.14159",
    "1234567890 12,345.67",
    "<｜User｜>literal special token text",
    "ÀÉÎÕÜ ñ ç ß",
    "",
    "a" * 300,
    "今天的天气晴朗、温暖且微风拂面",
]

CHATS = [
    [{"role": "user", "content": "你好"}],
    [
        {"role": "system", "content": "You are a helpful support agent for ACME."},
        {"role": "user", "content": "How do I return an item?"},
    ],
    [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "And 3+3?"},
    ],
]


def main(model_dir: str) -> None:
    # Encodings come from the tokenizers library on tokenizer.json alone: that is what DJL wraps.
    raw = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    encodings = [
        {
            "text": text,
            "ids": raw.encode(text, add_special_tokens=False).ids,
            "ids_with_special": raw.encode(text, add_special_tokens=True).ids,
        }
        for text in TEXTS
    ]

    # Chats go through transformers so the template runs in HF's own jinja2 sandbox
    # (trim_blocks, lstrip_blocks, loopcontrols, tojson with ensure_ascii=False).
    hf = AutoTokenizer.from_pretrained(model_dir)
    chats = []
    for messages in CHATS:
        rendered = hf.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        ids = hf.apply_chat_template(messages, tokenize=True, add_generation_prompt=True)
        if isinstance(ids, dict):  # transformers 5 returns a BatchEncoding
            ids = ids["input_ids"]
        chats.append(
            {
                "messages": messages,
                "add_generation_prompt": True,
                "rendered": rendered,
                "ids": list(ids),
            }
        )

    golden = {
        "reference": "HF tokenizers + transformers apply_chat_template",
        "encodings": encodings,
        "chats": chats,
    }
    json.dump(golden, sys.stdout, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_tokenizer_golden.py MODEL_DIR > golden.json")
    main(sys.argv[1])
