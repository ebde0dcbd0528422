// OpenAI API conformance of a real DeepChat node, seen through the official openai npm SDK (issue #17).
// Every check is named and prints "PASS name" or "FAIL name: reason"; the results also go to
// RESULTS_FILE as JSON ({name: {pass, reason}}) for OpenAiSdkConformanceTest. The bundled test model
// is random: checks assert structure and OpenAI semantics, never words.
//
// Environment: BASE_URL (the node, loopback), API_KEY (a workspace key), REMOTE_MODEL (a model version
// of that workspace backed by an OpenAI-compatible upstream that streams REMOTE_THOUGHT as reasoning,
// then REMOTE_ANSWER, or, when offered tools, calls the first with REMOTE_ARGUMENTS), RESULTS_FILE,
// ONLY (optional comma list of checks).
'use strict';

const fs = require('fs');
const { OpenAI } = require('openai');

const BASE_URL = required('BASE_URL');
const client = new OpenAI({ apiKey: required('API_KEY'), baseURL: BASE_URL + '/v1', maxRetries: 0, timeout: 30_000 });
const REMOTE_MODEL = required('REMOTE_MODEL');
const REMOTE = { thought: required('REMOTE_THOUGHT'), answer: required('REMOTE_ANSWER'), arguments: required('REMOTE_ARGUMENTS') };
const CHECK_TIMEOUT_MS = 30_000;

function required(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`conformance: ${name} is not set`);
    process.exit(2);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------------
// Helpers

const checks = [];
function check(name, fn) {
  checks.push({ name, fn });
}

class Failed extends Error {}
function assert(condition, message) {
  if (!condition) {
    throw new Failed(message);
  }
}
const show = (v) => JSON.stringify(v)?.slice(0, 300);

/** Every text the node returned, scanned at the end for chat-control tokens. */
const seenTexts = [];
function saw(where, text) {
  if (typeof text === 'string' && text.length > 0) {
    seenTexts.push({ where, text });
  }
  return text;
}

/** Awaits a call that must fail with an APIError of this status; returns the error. */
async function refused(promise, status) {
  let result;
  try {
    result = await promise;
  } catch (err) {
    if (!(err instanceof OpenAI.APIError) || err.status === undefined) {
      throw err;
    }
    assert(err.status === status, `expected HTTP ${status}, got ${err.status}: ${err.message}`);
    assert(err.error && typeof err.error.message === 'string' && err.error.message.length > 0,
      `error body is not {"error": {"message", ...}}: ${show(err.error)}`);
    return err;
  }
  throw new Failed(`expected HTTP ${status}, got success: ${show(result)}`);
}

function mentions(err, ...words) {
  const text = `${err.error.message} ${err.error.param ?? ''} ${err.error.code ?? ''}`;
  for (const w of words) {
    assert(text.includes(w), `the error does not name '${w}': ${show(err.error)}`);
  }
}

const user = (content) => [{ role: 'user', content }];

/** A non-streamed chat completion checked for the OpenAI shape; returns it. */
async function chat(body, options) {
  const r = await client.chat.completions.create(body, options);
  assert(typeof r.id === 'string' && r.id.startsWith('chatcmpl-'), `id: ${show(r.id)}`);
  assert(r.object === 'chat.completion', `object: ${show(r.object)}`);
  assert(Number.isInteger(r.created) && r.created > 1_600_000_000, `created: ${show(r.created)}`);
  assert(typeof r.model === 'string' && r.model.length > 0, `model: ${show(r.model)}`);
  assert(Array.isArray(r.choices) && r.choices.length >= 1, `choices: ${show(r.choices)}`);
  r.choices.forEach((c, i) => {
    assert(c.index === i, `choices[${i}].index is ${c.index}`);
    assert(c.message && c.message.role === 'assistant', `choices[${i}].message.role: ${show(c.message)}`);
    assert(['stop', 'length', 'tool_calls', 'content_filter'].includes(c.finish_reason),
      `choices[${i}].finish_reason: ${show(c.finish_reason)}`);
    const calls = c.message.tool_calls ?? [];
    assert((c.finish_reason === 'tool_calls') === (calls.length > 0),
      `finish_reason ${c.finish_reason} with ${calls.length} tool calls`);
    if (calls.length === 0) {
      assert(typeof c.message.content === 'string', `choices[${i}].message.content: ${show(c.message.content)}`);
    }
    saw('content', c.message.content);
    saw('reasoning_content', c.message.reasoning_content);
    calls.forEach((t) => saw('tool arguments', t.function?.arguments));
  });
  usage(r.usage);
  return r;
}

function usage(u) {
  // an answer from the response cache or an FAQ entry ran no model and reports 0
  assert(u && Number.isInteger(u.prompt_tokens) && u.prompt_tokens >= 0, `usage.prompt_tokens: ${show(u)}`);
  assert(Number.isInteger(u.completion_tokens) && u.completion_tokens >= 0, `usage.completion_tokens: ${show(u)}`);
  assert(u.total_tokens === u.prompt_tokens + u.completion_tokens, `usage.total_tokens: ${show(u)}`);
}

/**
 * Reads a chat stream the way an SDK user does and gathers it per choice: text, reasoning (both
 * names), tool calls assembled from their deltas, finish_reason and logprobs; checks chunk shape.
 */
async function gather(stream) {
  const choices = new Map();
  let id;
  let usageSeen;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    assert(chunk.object === 'chat.completion.chunk', `chunk.object: ${show(chunk.object)}`);
    id ??= chunk.id;
    assert(chunk.id === id, `chunk ids differ: ${id} then ${chunk.id}`);
    assert(usageSeen === undefined, 'a chunk after the usage chunk');
    if (chunk.usage) {
      assert(chunk.choices.length === 0, `the usage chunk has choices: ${show(chunk.choices)}`);
      usageSeen = chunk.usage;
      continue;
    }
    for (const c of chunk.choices) {
      if (!choices.has(c.index)) {
        choices.set(c.index, { role: undefined, content: '', reasoningContent: '', reasoning: '', calls: [],
          argumentDeltas: 0, finish: null, logprobs: [] });
      }
      const g = choices.get(c.index);
      assert(g.finish === null, `choice ${c.index}: a delta after its finish_reason`);
      const d = c.delta ?? {};
      if (d.role !== undefined && d.role !== null) {
        assert(g.role === undefined && d.role === 'assistant', `choice ${c.index}: delta.role ${show(d.role)}`);
        g.role = d.role;
      }
      g.content += d.content ?? '';
      g.reasoningContent += d.reasoning_content ?? '';
      g.reasoning += d.reasoning ?? '';
      for (const t of d.tool_calls ?? []) {
        assert(Number.isInteger(t.index), `tool call delta without index: ${show(t)}`);
        let call = g.calls[t.index];
        if (call === undefined) {
          assert(t.index === g.calls.length, `tool call index ${t.index} skips ${g.calls.length}`);
          assert(typeof t.id === 'string' && t.id.length > 0 && t.function?.name,
            `the first delta of a tool call lacks id or function.name: ${show(t)}`);
          assert(t.type === 'function', `tool call type: ${show(t.type)}`);
          call = { id: t.id, type: t.type, function: { name: t.function.name, arguments: '' } };
          g.calls[t.index] = call;
        } else {
          assert(t.id === undefined || t.id === null || t.id === call.id, `tool call ${t.index} changed its id`);
          assert(!t.function?.name || t.function.name === call.function.name, `tool call ${t.index} renamed`);
        }
        if (t.function?.arguments) {
          call.function.arguments += t.function.arguments;
          g.argumentDeltas++;
        }
      }
      if (c.logprobs?.content) {
        g.logprobs.push(...c.logprobs.content);
      }
      if (c.finish_reason) {
        g.finish = c.finish_reason;
      }
    }
  }
  assert(chunks > 0, 'no chunks');
  assert(typeof id === 'string' && id.startsWith('chatcmpl-'), `chunk id: ${show(id)}`);
  for (const [index, g] of choices) {
    assert(g.role === 'assistant', `choice ${index}: no delta.role 'assistant'`);
    assert(g.finish !== null, `choice ${index}: no finish_reason`);
    assert((g.finish === 'tool_calls') === (g.calls.length > 0), `choice ${index}: finish_reason ${g.finish} with ${g.calls.length} tool calls`);
    saw('streamed content', g.content);
    saw('streamed reasoning', g.reasoningContent);
    g.calls.forEach((t) => saw('streamed tool arguments', t.function.arguments));
  }
  return { id, choices, usage: usageSeen };
}

/** Chat completion streamed, with usage asked for as OpenAI clients do. */
async function chatStream(body, options) {
  const r = await gather(await client.chat.completions.create(
    { ...body, stream: true, stream_options: { include_usage: true } }, options));
  usage(r.usage);
  return r;
}

/** Errors of a value against a JSON schema (the subset strict structured outputs use). */
function schemaErrors(schema, value, path = '$') {
  const errors = [];
  const types = [].concat(schema.type ?? []);
  const typeOf = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array'
    : Number.isInteger(v) ? 'integer' : typeof v);
  if (types.length > 0) {
    const t = typeOf(value);
    if (!types.includes(t) && !(t === 'integer' && types.includes('number'))) {
      return [`${path}: ${show(value)} is not ${types.join('|')}`];
    }
  }
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    errors.push(`${path}: ${show(value)} not in enum ${show(schema.enum)}`);
  }
  if (schema.anyOf && schema.anyOf.every((s) => schemaErrors(s, value, path).length > 0)) {
    errors.push(`${path}: matches no anyOf branch`);
  }
  if (typeOf(value) === 'object') {
    for (const k of schema.required ?? []) {
      if (!(k in value)) {
        errors.push(`${path}: missing '${k}'`);
      }
    }
    for (const [k, v] of Object.entries(value)) {
      if (schema.properties && k in schema.properties) {
        errors.push(...schemaErrors(schema.properties[k], v, `${path}.${k}`));
      } else if (schema.additionalProperties === false) {
        errors.push(`${path}: unexpected property '${k}'`);
      }
    }
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      errors.push(`${path}: fewer than ${schema.minItems} items`);
    }
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      errors.push(`${path}: more than ${schema.maxItems} items`);
    }
    if (schema.items) {
      value.forEach((v, i) => errors.push(...schemaErrors(schema.items, v, `${path}[${i}]`)));
    }
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) {
      errors.push(`${path}: ${value} < ${schema.minimum}`);
    }
    if (schema.maximum !== undefined && value > schema.maximum) {
      errors.push(`${path}: ${value} > ${schema.maximum}`);
    }
  }
  return errors;
}

function parseJson(text, what) {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Failed(`${what} is not valid JSON (${e.message}): ${show(text)}`);
  }
}

function conforms(schema, text, what) {
  const value = parseJson(text, what);
  const errors = schemaErrors(schema, value);
  assert(errors.length === 0, `${what} does not conform to the schema: ${errors.slice(0, 3).join('; ')}`);
  return value;
}

// ---------------------------------------------------------------------------------------------------
// Fixtures

const WEATHER = {
  type: 'object',
  properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
  required: ['city', 'unit'],
  additionalProperties: false,
};
const TOOLS = [
  { type: 'function', function: { name: 'get_weather', description: 'Current weather in a city', parameters: WEATHER, strict: true } },
  {
    type: 'function',
    function: {
      name: 'get_time', description: 'Local time in a time zone', strict: true,
      parameters: { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'], additionalProperties: false },
    },
  },
];
const TOOL_SCHEMAS = Object.fromEntries(TOOLS.map((t) => [t.function.name, t.function.parameters]));
const ORDER = {
  type: 'object',
  properties: {
    order_id: { type: 'integer' },
    status: { type: 'string', enum: ['pending', 'shipped', 'delivered'] },
    express: { type: 'boolean' },
    note: { type: 'string' },
    tags: { type: 'array', items: { type: 'string', enum: ['gift', 'fragile', 'bulk'] } },
  },
  required: ['order_id', 'status', 'express', 'note', 'tags'],
  additionalProperties: false,
};
// room for a forced JSON value or tool call (the minimal ones take about 30 tokens); the constraint must
// close the JSON within it, as OpenAI's strict mode promises, and a small budget keeps the test fast
const JSON_TOKENS = 160;

function validToolCalls(calls, allowed) {
  const ids = new Set();
  for (const t of calls) {
    assert(typeof t.id === 'string' && t.id.length > 0 && !ids.has(t.id), `tool call id missing or repeated: ${show(t.id)}`);
    ids.add(t.id);
    assert(t.type === 'function', `tool call type: ${show(t.type)}`);
    assert(allowed.includes(t.function.name), `tool call names ${show(t.function.name)}, allowed ${allowed}`);
    assert(typeof t.function.arguments === 'string', `arguments is not a JSON string: ${show(t.function.arguments)}`);
    conforms(TOOL_SCHEMAS[t.function.name], t.function.arguments, `arguments of ${t.function.name}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Models, plain chat, streaming, sampling parameters

check('models.list', async () => {
  const ids = [];
  for await (const m of client.models.list()) {
    assert(m.object === 'model' && typeof m.id === 'string' && Number.isInteger(m.created), `model: ${show(m)}`);
    ids.push(m.id);
  }
  assert(ids.includes(REMOTE_MODEL), `the workspace's version ${REMOTE_MODEL} is not listed: ${show(ids)}`);
  // the name OpenAI-style clients send works on a fresh install, listed or not
  const one = await client.models.retrieve('deepseek-chat');
  assert(one.id === 'deepseek-chat' && one.object === 'model', `retrieve: ${show(one)}`);
});

check('chat.docs_first_example', async () => {
  // docs/api.md's first curl example, as a fresh workspace runs it
  const r = await chat({ model: 'deepseek-chat', messages: user('How do I reset my password?'), max_tokens: 8 });
  assert(r.choices.length === 1, `choices: ${r.choices.length}`);
});

check('chat.basic', async () => {
  const r = await chat({ messages: [{ role: 'system', content: 'You are terse.' }, ...user('Say hello.')], max_tokens: 8 });
  assert(r.choices.length === 1, `one choice expected, got ${r.choices.length}`);
  const c = r.choices[0];
  assert(c.logprobs === null || c.logprobs === undefined, `logprobs not asked for: ${show(c.logprobs)}`);
  assert(!c.message.tool_calls || c.message.tool_calls.length === 0, `tool calls without tools: ${show(c.message.tool_calls)}`);
});

check('chat.message_forms', async () => {
  // developer role, text parts, an earlier assistant turn with null content
  await chat({
    messages: [
      { role: 'developer', content: [{ type: 'text', text: 'Answer briefly.' }] },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello! How can I help?' },
      { role: 'user', content: [{ type: 'text', text: 'Tell me ' }, { type: 'text', text: 'a fact.' }] },
    ],
    max_tokens: 6,
  });
});

check('chat.stream', async () => {
  const r = await chatStream({ messages: user('Describe a lamp.'), max_tokens: 8 });
  assert(r.choices.size === 1 && r.choices.has(0), `choice indexes: ${show([...r.choices.keys()])}`);
  const g = r.choices.get(0);
  assert(['stop', 'length'].includes(g.finish), `finish_reason: ${g.finish}`);
  assert(r.usage.completion_tokens >= 1 && r.usage.completion_tokens <= 8, `usage: ${show(r.usage)}`);
});

check('chat.stream_helper', async () => {
  // the SDK's own accumulator (ChatCompletionStream) rebuilds the completion from the chunks
  const stream = client.chat.completions.stream({ messages: user('Name a colour.'), max_tokens: 6 });
  const whole = await stream.finalChatCompletion();
  assert(whole.choices.length === 1 && typeof whole.choices[0].message.content === 'string', `final: ${show(whole)}`);
  saw('stream helper content', whole.choices[0].message.content);
});

check('chat.max_tokens', async () => {
  for (const field of ['max_tokens', 'max_completion_tokens']) {
    const r = await chat({ messages: user('Write a long story about the sea.'), [field]: 3, temperature: 0.9 });
    const c = r.choices[0];
    assert(r.usage.completion_tokens <= 3, `${field}=3 gave ${r.usage.completion_tokens} tokens`);
    assert(c.finish_reason === 'length' || r.usage.completion_tokens < 3,
      `${field}: ${r.usage.completion_tokens} tokens, finish_reason ${c.finish_reason}`);
  }
});

check('chat.sampling_params', async () => {
  const r = await chat({ messages: user('Pick a number.'), temperature: 1.3, top_p: 0.8, max_tokens: 5, user: 'sdk-conformance' });
  assert(r.usage.completion_tokens <= 5, `usage: ${show(r.usage)}`);
});

check('chat.stop', async () => {
  // greedy decoding is deterministic: find a piece of the free answer, then stop on it
  const prompts = ['Explain how tides work.', 'List some fruits.', 'Describe a city at night.', 'Why is the sky blue?'];
  for (const prompt of prompts) {
    const free = (await chat({ messages: user(prompt), temperature: 0, max_tokens: 24 })).choices[0].message.content;
    const chars = [...free];
    if (chars.length < 6) {
      continue;
    }
    const from = Math.floor(chars.length / 2);
    const stop = chars.slice(from, from + 2).join('');
    if (stop.trim().length === 0) {
      continue;
    }
    const expected = free.slice(0, free.indexOf(stop));
    for (const stops of [stop, [stop, '\u0001never']]) {
      const r = await chat({ messages: user(prompt), temperature: 0, max_tokens: 24, stop: stops });
      const c = r.choices[0];
      assert(c.message.content === expected, `stop ${show(stops)}: expected ${show(expected)}, got ${show(c.message.content)}`);
      assert(c.finish_reason === 'stop', `stop matched but finish_reason is ${c.finish_reason}`);
    }
    const streamed = (await chatStream({ messages: user(prompt), temperature: 0, max_tokens: 24, stop })).choices.get(0);
    assert(streamed.content === expected, `streamed with stop: expected ${show(expected)}, got ${show(streamed.content)}`);
    assert(streamed.finish === 'stop', `streamed finish_reason ${streamed.finish}`);
    return;
  }
  throw new Failed('no greedy answer long enough to pick a stop string from');
});

check('chat.abort', async () => {
  // the SDK ends the iteration quietly when its signal aborts; the answer must stop, not run to its end
  const controller = new AbortController();
  const stream = await client.chat.completions.create(
    { messages: user('Count to ten thousand.'), max_tokens: 1000, temperature: 1, stream: true }, { signal: controller.signal });
  let chunks = 0;
  let finish = null;
  try {
    for await (const chunk of stream) {
      chunks++;
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunks === 2) {
        controller.abort();
      }
    }
  } catch (err) {
    assert(err instanceof OpenAI.APIUserAbortError || err?.name === 'AbortError', `abort surfaced as ${err}`);
  }
  assert(chunks >= 2 && finish === null, `after abort(): ${chunks} chunks, finish_reason ${finish}`);
  assert(controller.signal.aborted, 'not aborted');
});

check('chat.idempotent_replay', async () => {
  const key = `sdk-replay-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const body = { messages: user('Tell me something about rivers.'), temperature: 1, max_tokens: 10 };
  const first = await chat(body, { headers: { 'Idempotency-Key': key } });
  const again = await chat(body, { headers: { 'Idempotency-Key': key } });
  const a = first.choices[0];
  const b = again.choices[0];
  assert(again.id === first.id, `replay id ${again.id} != ${first.id}`);
  assert(b.message.content === a.message.content, `replay content ${show(b.message.content)} != ${show(a.message.content)}`);
  assert(b.finish_reason === a.finish_reason, `replay finish_reason ${b.finish_reason} != ${a.finish_reason}`);
});

check('chat.idempotent_replay.stream', async () => {
  const key = `sdk-replay-stream-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const body = { messages: user('Tell me something about mountains.'), temperature: 1, max_tokens: 10 };
  const first = await chatStream(body, { headers: { 'Idempotency-Key': key } });
  const again = await chatStream(body, { headers: { 'Idempotency-Key': key } });
  const a = first.choices.get(0);
  const b = again.choices.get(0);
  assert(b.content === a.content, `replay content ${show(b.content)} != ${show(a.content)}`);
  assert(b.finish === a.finish, `replay finish_reason ${b.finish} != ${a.finish}`);
});

// ---------------------------------------------------------------------------------------------------
// Errors, as the SDK's typed exceptions

check('errors.authentication', async () => {
  const stranger = new OpenAI({ apiKey: 'dck_not_a_key', baseURL: BASE_URL + '/v1', maxRetries: 0 });
  const err = await refused(stranger.chat.completions.create({ messages: user('hi') }), 401);
  assert(err instanceof OpenAI.AuthenticationError, `not an AuthenticationError: ${err.constructor.name}`);
  assert(err.code === 'invalid_api_key', `code: ${show(err.code)}`);
});

check('errors.unknown_model', async () => {
  const err = await refused(client.chat.completions.create({ model: 'no-such-model', messages: user('hi') }), 404);
  assert(err instanceof OpenAI.NotFoundError && err.code === 'model_not_found', `${err.constructor.name} ${err.code}`);
});

check('errors.bad_request', async () => {
  for (const [body, code] of [[{ messages: [] }, 'invalid_messages'],
    [{ messages: user('hi'), temperature: 5 }, 'invalid_temperature'],
    [{ messages: user('hi'), max_tokens: 0 }, 'invalid_max_tokens']]) {
    const err = await refused(client.chat.completions.create(body), 400);
    assert(err instanceof OpenAI.BadRequestError, `not a BadRequestError: ${err.constructor.name}`);
    assert(err.code === code, `code ${show(err.code)}, expected ${code}`);
    assert(typeof err.type === 'string', `type: ${show(err.type)}`);
  }
});

check('errors.method_not_allowed', async () => {
  for (const [call, method] of [[() => client.get('/chat/completions'), 'POST'], [() => client.get('/embeddings'), 'POST'],
    [() => client.post('/models', { body: {} }), 'GET']]) {
    const err = await refused(call(), 405);
    const allow = err.headers?.get?.('allow') ?? '';
    assert(allow.split(/,\s*/).includes(method), `Allow: ${show(allow)}, expected ${method}`);
    assert(err.code === 'method_not_allowed', `code: ${show(err.code)}`);
  }
});

// ---------------------------------------------------------------------------------------------------
// Embeddings

function unitVectors(r, count, dims) {
  assert(r.object === 'list' && r.data.length === count, `data: ${r.data?.length}`);
  r.data.forEach((d, i) => {
    assert(d.object === 'embedding' && d.index === i, `data[${i}]: ${show({ ...d, embedding: undefined })}`);
    assert(d.embedding.length === dims, `data[${i}] has ${d.embedding.length} dimensions, expected ${dims}`);
    const norm = Math.sqrt(d.embedding.reduce((s, x) => s + x * x, 0));
    assert(Math.abs(norm - 1) < 1e-3, `data[${i}] norm ${norm}`);
  });
  assert(r.usage.prompt_tokens > 0 && r.usage.total_tokens === r.usage.prompt_tokens, `usage: ${show(r.usage)}`);
}

check('embeddings.float', async () => {
  const r = await client.embeddings.create({ model: 'bge-small-en-v1.5-q', input: ['return policy', 'opening hours'], encoding_format: 'float' });
  unitVectors(r, 2, 384);
});

check('embeddings.base64_sdk_default', async () => {
  // the SDK asks for base64 unless told otherwise and decodes it; the vectors must equal the float ones
  const input = ['退货政策', '营业时间', 'shipping'];
  const b64 = await client.embeddings.create({ model: 'bge-small-zh-v1.5-q', input });
  unitVectors(b64, 3, 512);
  const floats = await client.embeddings.create({ model: 'bge-small-zh-v1.5-q', input, encoding_format: 'float' });
  b64.data.forEach((d, i) => d.embedding.forEach((x, j) => assert(Math.abs(x - floats.data[i].embedding[j]) < 1e-6,
    `data[${i}][${j}]: base64 ${x} != float ${floats.data[i].embedding[j]}`)));
});

check('embeddings.errors', async () => {
  const err = await refused(client.embeddings.create({ model: 'bge-small-en-v1.5-q', input: 'x', dimensions: 100, encoding_format: 'float' }), 400);
  mentions(err, 'dimensions');
  await refused(client.embeddings.create({ model: 'no-such-embedder', input: 'x', encoding_format: 'float' }), 404);
});

// ---------------------------------------------------------------------------------------------------
// R1 reasoning (the remote model version thinks before it answers)

check('reasoning.both_fields', async () => {
  const r = await chat({ model: REMOTE_MODEL, messages: user('Greet me.'), max_tokens: 50 });
  const m = r.choices[0].message;
  assert(m.reasoning_content === REMOTE.thought, `reasoning_content ${show(m.reasoning_content)}, the upstream thought ${show(REMOTE.thought)}`);
  assert(m.reasoning === m.reasoning_content, `reasoning ${show(m.reasoning)} != reasoning_content`);
  assert(m.content === REMOTE.answer, `content ${show(m.content)}, the upstream answered ${show(REMOTE.answer)}`);
});

check('reasoning.both_fields.stream', async () => {
  const r = await chatStream({ model: REMOTE_MODEL, messages: user('Greet me again.'), max_tokens: 50 });
  const g = r.choices.get(0);
  assert(g.reasoningContent === REMOTE.thought, `delta.reasoning_content gave ${show(g.reasoningContent)}`);
  assert(g.reasoning === g.reasoningContent, `delta.reasoning gave ${show(g.reasoning)}`);
  assert(g.content === REMOTE.answer, `delta.content gave ${show(g.content)}`);
});

// ---------------------------------------------------------------------------------------------------
// Tools

check('tools.auto', async () => {
  const r = await chat({ messages: user('What is the weather in Paris?'), tools: TOOLS, tool_choice: 'auto', max_tokens: 200 });
  validToolCalls(r.choices[0].message.tool_calls ?? [], ['get_weather', 'get_time']);
});

check('tools.none', async () => {
  const r = await chat({ messages: user('What is the weather in Paris?'), tools: TOOLS, tool_choice: 'none', max_tokens: 12 });
  const c = r.choices[0];
  assert((c.message.tool_calls ?? []).length === 0 && c.finish_reason !== 'tool_calls', `tool_choice none called: ${show(c)}`);
});

check('tools.required', async () => {
  const r = await chat({ messages: user('What is the weather in Paris?'), tools: TOOLS, tool_choice: 'required', max_tokens: JSON_TOKENS });
  const c = r.choices[0];
  assert(c.finish_reason === 'tool_calls', `finish_reason: ${c.finish_reason}`);
  assert(c.message.tool_calls.length >= 1, 'no tool call');
  assert(c.message.content === null || c.message.content === '', `content beside the tool calls: ${show(c.message.content)}`);
  validToolCalls(c.message.tool_calls, ['get_weather', 'get_time']);
});

check('tools.required.stream', async () => {
  const r = await chatStream({ messages: user('What is the weather in Paris?'), tools: TOOLS, tool_choice: 'required', max_tokens: JSON_TOKENS });
  const g = r.choices.get(0);
  assert(g.finish === 'tool_calls' && g.calls.length >= 1, `finish_reason ${g.finish}, ${g.calls.length} calls`);
  assert(g.argumentDeltas >= 2, `arguments came in ${g.argumentDeltas} delta(s), not incrementally`);
  validToolCalls(g.calls, ['get_weather', 'get_time']);
});

check('tools.named', async () => {
  // OpenAI: a named tool_choice calls exactly that one function, once, whatever parallel_tool_calls says
  for (const name of ['get_time', 'get_weather']) {
    const r = await chat({
      messages: user('Hello there.'), tools: TOOLS, max_tokens: JSON_TOKENS,
      tool_choice: { type: 'function', function: { name } },
    });
    const c = r.choices[0];
    assert(c.finish_reason === 'tool_calls', `${name}: finish_reason ${c.finish_reason}`);
    assert(c.message.tool_calls.length === 1, `${c.message.tool_calls.length} calls to the named function ${name}`);
    validToolCalls(c.message.tool_calls, [name]);
  }
});

check('tools.named.stream_helper', async () => {
  // the SDK's ChatCompletionStream assembles tool calls from their deltas and parses strict arguments
  const stream = client.chat.completions.stream({
    messages: user('Hello there.'), tools: TOOLS, max_tokens: JSON_TOKENS,
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
  });
  const whole = await stream.finalChatCompletion();
  const c = whole.choices[0];
  assert(c.finish_reason === 'tool_calls', `finish_reason: ${c.finish_reason}`);
  assert(c.message.tool_calls?.length === 1, `tool calls: ${show(c.message.tool_calls)}`);
  validToolCalls(c.message.tool_calls, ['get_weather']);
  const parsed = c.message.tool_calls[0].function.parsed_arguments;
  assert(parsed && typeof parsed === 'object', `the SDK did not parse the strict arguments: ${show(parsed)}`);
});

check('tools.parallel_false', async () => {
  const r = await chat({
    messages: user('Weather in Paris and the time in Tokyo?'), tools: TOOLS, tool_choice: 'required',
    parallel_tool_calls: false, max_tokens: JSON_TOKENS,
  });
  const calls = r.choices[0].message.tool_calls ?? [];
  assert(calls.length === 1, `parallel_tool_calls false gave ${calls.length} calls`);
  validToolCalls(calls, ['get_weather', 'get_time']);
});

const TOOL_HISTORY = [
  ...user('What is the weather in Paris?'),
  {
    role: 'assistant', content: null,
    tool_calls: [{ id: 'call_abc123', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' } }],
  },
  { role: 'tool', tool_call_id: 'call_abc123', content: '{"temperature": 21, "sky": "clear"}' },
];

check('tools.result_history', async () => {
  const r = await chat({ messages: TOOL_HISTORY, tools: TOOLS, max_tokens: 12 });
  assert(r.choices.length === 1, `choices: ${r.choices.length}`);
  const s = await chatStream({ messages: [...TOOL_HISTORY, { role: 'assistant', content: 'It is 21 degrees.' }, ...user('Thanks!')],
    tools: TOOLS, tool_choice: 'none', max_tokens: 8 });
  assert(s.choices.get(0).finish !== 'tool_calls', 'tool_choice none called a tool');
});

check('tools.remote_passthrough', async () => {
  // an OpenAI-compatible backend gets tools and answers with a tool call: it must reach the client as one
  const r = await chat({ model: REMOTE_MODEL, messages: user('Weather in Paris?'), tools: TOOLS, max_tokens: 50 });
  const c = r.choices[0];
  assert(c.finish_reason === 'tool_calls' && c.message.tool_calls?.length === 1, `remote tool call lost: ${show(c)}`);
  validToolCalls(c.message.tool_calls, ['get_weather']);
  const sent = JSON.stringify(JSON.parse(REMOTE.arguments));
  assert(JSON.stringify(JSON.parse(c.message.tool_calls[0].function.arguments)) === sent, `arguments changed: ${show(c.message.tool_calls)}`);
  const s = (await chatStream({ model: REMOTE_MODEL, messages: user('Weather in Paris?'), tools: TOOLS, max_tokens: 50 })).choices.get(0);
  assert(s.finish === 'tool_calls' && s.calls.length === 1, `remote streamed tool call lost: ${show(s)}`);
  validToolCalls(s.calls, ['get_weather']);
  assert(JSON.stringify(JSON.parse(s.calls[0].function.arguments)) === sent, `streamed arguments changed: ${show(s.calls)}`);
});

check('tools.idempotent_replay', async () => {
  // a replay returns the stored answer exactly: its tool calls and finish_reason "tool_calls" included
  const key = `sdk-replay-tools-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const body = { messages: user('What is the weather in Paris?'), tools: TOOLS, tool_choice: 'required', max_tokens: JSON_TOKENS };
  const first = (await chat(body, { headers: { 'Idempotency-Key': key } })).choices[0];
  const again = (await chat(body, { headers: { 'Idempotency-Key': key } })).choices[0];
  assert(first.finish_reason === 'tool_calls', `finish_reason: ${first.finish_reason}`);
  assert(again.finish_reason === first.finish_reason, `replay finish_reason ${again.finish_reason}`);
  assert(JSON.stringify(again.message.tool_calls) === JSON.stringify(first.message.tool_calls),
    `replay tool_calls ${show(again.message.tool_calls)} != ${show(first.message.tool_calls)}`);
});

check('tools.error.unknown_function', async () => {
  const err = await refused(client.chat.completions.create({
    messages: user('hi'), tools: TOOLS, tool_choice: { type: 'function', function: { name: 'launch_rocket' } }, max_tokens: 4,
  }), 400);
  mentions(err, 'launch_rocket');
});

check('tools.error.tool_message_without_id', async () => {
  const broken = TOOL_HISTORY.map((m) => (m.role === 'tool' ? { role: 'tool', content: m.content } : m));
  const err = await refused(client.chat.completions.create({ messages: broken, tools: TOOLS, max_tokens: 4 }), 400);
  mentions(err, 'tool_call_id');
});

check('tools.error.tool_message_without_call', async () => {
  // a tool result must answer a tool call of an earlier assistant message
  const err = await refused(client.chat.completions.create({
    messages: [...user('hi'), { role: 'tool', tool_call_id: 'call_nowhere', content: '42' }], tools: TOOLS, max_tokens: 4,
  }), 400);
  mentions(err, 'call_nowhere');
});

check('tools.error.choice_without_tools', async () => {
  const err = await refused(client.chat.completions.create({ messages: user('hi'), tool_choice: 'required', max_tokens: 4 }), 400);
  mentions(err, 'tool_choice');
});

// ---------------------------------------------------------------------------------------------------
// Structured output (constrained decoding)

const JSON_PROMPT = user('Reply in JSON with details of order 42.');

check('json_object', async () => {
  const r = await chat({ messages: JSON_PROMPT, response_format: { type: 'json_object' }, max_tokens: JSON_TOKENS });
  const c = r.choices[0];
  assert(c.finish_reason === 'stop', `finish_reason ${c.finish_reason}: the JSON did not end`);
  const v = parseJson(c.message.content, 'content');
  assert(v !== null && typeof v === 'object' && !Array.isArray(v), `json_object gave ${show(v)}`);
});

check('json_object.stream', async () => {
  const g = (await chatStream({ messages: JSON_PROMPT, response_format: { type: 'json_object' }, max_tokens: JSON_TOKENS })).choices.get(0);
  assert(g.finish === 'stop', `finish_reason ${g.finish}`);
  const v = parseJson(g.content, 'streamed content');
  assert(v !== null && typeof v === 'object' && !Array.isArray(v), `json_object gave ${show(v)}`);
});

const ORDER_FORMAT = { type: 'json_schema', json_schema: { name: 'order', strict: true, schema: ORDER } };

check('json_schema', async () => {
  const r = await chat({ messages: JSON_PROMPT, response_format: ORDER_FORMAT, max_tokens: JSON_TOKENS });
  assert(r.choices[0].finish_reason === 'stop', `finish_reason ${r.choices[0].finish_reason}`);
  conforms(ORDER, r.choices[0].message.content, 'content');
});

check('json_schema.stream', async () => {
  const g = (await chatStream({ messages: JSON_PROMPT, response_format: ORDER_FORMAT, max_tokens: JSON_TOKENS })).choices.get(0);
  assert(g.finish === 'stop', `finish_reason ${g.finish}`);
  conforms(ORDER, g.content, 'streamed content');
});

check('json_schema.sdk_parse', async () => {
  // client.chat.completions.parse: the SDK's structured-output helper parses message.parsed itself
  const r = await client.chat.completions.parse({ messages: JSON_PROMPT, response_format: ORDER_FORMAT, max_tokens: JSON_TOKENS });
  const m = r.choices[0].message;
  saw('parsed content', m.content);
  assert(m.parsed && schemaErrors(ORDER, m.parsed).length === 0, `message.parsed: ${show(m.parsed)}`);
});

check('json_schema.error.unsupported', async () => {
  const schema = { type: 'object', patternProperties: { '^x-': { type: 'string' } }, additionalProperties: false };
  const err = await refused(client.chat.completions.create({
    messages: JSON_PROMPT, response_format: { type: 'json_schema', json_schema: { name: 'loose', strict: true, schema } }, max_tokens: 4,
  }), 400);
  mentions(err, 'patternProperties');
});

// ---------------------------------------------------------------------------------------------------
// n, logprobs, seed

check('n.choices', async () => {
  const r = await chat({ messages: user('Suggest a name for a cat.'), n: 3, temperature: 1, max_tokens: 6 });
  assert(r.choices.length === 3, `n=3 gave ${r.choices.length} choices`);
});

check('n.choices.stream', async () => {
  const r = await chatStream({ messages: user('Suggest a name for a dog.'), n: 2, temperature: 1, max_tokens: 6 });
  assert(r.choices.size === 2 && r.choices.has(0) && r.choices.has(1), `n=2 streamed choice indexes ${show([...r.choices.keys()])}`);
});

function validLogprobs(entries, content, top) {
  assert(Array.isArray(entries) && entries.length > 0, `logprobs.content: ${show(entries)}`);
  const bytes = [];
  for (const e of entries) {
    assert(typeof e.token === 'string' && Number.isFinite(e.logprob) && e.logprob <= 0, `entry: ${show(e)}`);
    assert(e.bytes === null || (Array.isArray(e.bytes) && e.bytes.every((b) => Number.isInteger(b) && b >= 0 && b < 256)), `bytes: ${show(e.bytes)}`);
    assert(Array.isArray(e.top_logprobs) && e.top_logprobs.length === top, `top_logprobs has ${e.top_logprobs?.length}, expected ${top}`);
    for (let i = 1; i < e.top_logprobs.length; i++) {
      assert(e.top_logprobs[i].logprob <= e.top_logprobs[i - 1].logprob, `top_logprobs not in descending order: ${show(e.top_logprobs)}`);
    }
    bytes.push(...(e.bytes ?? Buffer.from(e.token, 'utf8')));
  }
  const text = Buffer.from(bytes).toString('utf8');
  assert(text === content, `the tokens' bytes spell ${show(text)}, the content is ${show(content)}`);
}

// sampled checks take a seed: the random test model can sample a special token, which the content
// leaves out while its log-probability is still listed (see ChatOnRealEngineTest); a seed keeps them fixed
check('logprobs', async () => {
  const r = await chat({ messages: user('Describe the moon.'), logprobs: true, top_logprobs: 3, temperature: 1, seed: 11, max_tokens: 8 });
  const c = r.choices[0];
  validLogprobs(c.logprobs?.content, c.message.content, 3);
});

check('logprobs.greedy_is_top', async () => {
  const r = await chat({ messages: user('Describe the sun.'), logprobs: true, top_logprobs: 5, temperature: 0, max_tokens: 8 });
  const c = r.choices[0];
  validLogprobs(c.logprobs?.content, c.message.content, 5);
  for (const e of c.logprobs.content) {
    assert(e.logprob >= e.top_logprobs[0].logprob - 1e-4, `greedy chose ${show(e.token)} (${e.logprob}) below the top ${show(e.top_logprobs[0])}`);
  }
});

check('logprobs.stream', async () => {
  const g = (await chatStream({ messages: user('Describe the stars.'), logprobs: true, top_logprobs: 2, temperature: 1, seed: 11, max_tokens: 8 })).choices.get(0);
  validLogprobs(g.logprobs, g.content, 2);
});

check('logprobs.errors', async () => {
  const err = await refused(client.chat.completions.create({ messages: user('hi'), logprobs: true, top_logprobs: 21, max_tokens: 4 }), 400);
  mentions(err, 'top_logprobs');
});

check('seed.reproducible', async () => {
  // the test model's distribution is peaked: at temperature 2 different seeds do sample different text
  const body = { messages: user('Invent a word.'), temperature: 2, seed: 1234, max_tokens: 16 };
  const a = (await chat(body)).choices[0].message.content;
  const b = (await chat(body)).choices[0].message.content;
  assert(a === b, `same seed, different text: ${show(a)} vs ${show(b)}`);
  const s = (await chatStream(body)).choices.get(0).content;
  assert(s === a, `same seed streamed: ${show(s)} vs ${show(a)}`);
  const others = [];
  for (const seed of [1, 2, 3]) {
    others.push((await chat({ ...body, seed })).choices[0].message.content);
  }
  assert(others.some((o) => o !== a), `every seed gives the same text: ${show(a)}`);
});

// ---------------------------------------------------------------------------------------------------
// Legacy completions (raw prompt)

check('completions', async () => {
  const r = await client.completions.create({ model: 'deepseek-chat', prompt: 'Once upon a time', max_tokens: 8 });
  assert(r.object === 'text_completion' && typeof r.id === 'string', `object ${show(r.object)}, id ${show(r.id)}`);
  assert(r.choices.length === 1 && r.choices[0].index === 0 && typeof r.choices[0].text === 'string', `choices: ${show(r.choices)}`);
  assert(['stop', 'length'].includes(r.choices[0].finish_reason), `finish_reason: ${r.choices[0].finish_reason}`);
  saw('completion text', r.choices[0].text);
  usage(r.usage);
  assert(r.usage.completion_tokens <= 8, `usage: ${show(r.usage)}`);
});

check('completions.stream', async () => {
  const stream = await client.completions.create({ model: 'deepseek-chat', prompt: 'The harbour at dawn', max_tokens: 8, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let finish = null;
  let usageSeen;
  for await (const chunk of stream) {
    assert(chunk.object === 'text_completion', `chunk.object ${show(chunk.object)}`);
    if (chunk.usage) {
      usageSeen = chunk.usage;
    }
    for (const c of chunk.choices ?? []) {
      text += c.text ?? '';
      finish = c.finish_reason ?? finish;
    }
  }
  saw('streamed completion text', text);
  assert(['stop', 'length'].includes(finish), `finish_reason: ${finish}`);
  usage(usageSeen);
});

check('completions.errors', async () => {
  const err = await refused(client.completions.create({ model: 'deepseek-chat', prompt: 'x', max_tokens: -1 }), 400);
  mentions(err, 'max_tokens');
});

// ---------------------------------------------------------------------------------------------------
// Text hygiene over everything the node returned above

check('hygiene.no_control_tokens', async () => {
  // one long answer of its own, then every text seen by the checks before
  await chat({ messages: user('Write whatever comes to mind.'), temperature: 1, max_tokens: 64 });
  await chatStream({ messages: user('Keep writing.'), temperature: 1, max_tokens: 64 });
  assert(seenTexts.length >= 10, `only ${seenTexts.length} texts seen`);
  const control = /<｜[^<>｜]{1,40}｜>|<\|(?:im_start|im_end|endoftext|begin_of_text|eot_id)\|>/;
  for (const { where, text } of seenTexts) {
    const m = text.match(control);
    assert(!m, `${where} contains the control token ${m?.[0]}: ${show(text)}`);
  }
});

// ---------------------------------------------------------------------------------------------------

async function main() {
  const only = (process.env.ONLY ?? '').split(',').filter((s) => s);
  const results = {};
  for (const { name, fn } of checks) {
    if (only.length > 0 && !only.includes(name)) {
      continue;
    }
    const started = Date.now();
    let timer;
    try {
      await Promise.race([fn(), new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Failed(`timed out after ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      })]);
      results[name] = { pass: true, reason: '', ms: Date.now() - started };
      console.log(`PASS ${name} (${Date.now() - started} ms)`);
    } catch (err) {
      const reason = err instanceof Failed ? err.message
        : `${err?.constructor?.name ?? 'error'}: ${err?.status ?? ''} ${err?.message ?? err}`.slice(0, 500);
      results[name] = { pass: false, reason, ms: Date.now() - started };
      console.log(`FAIL ${name} (${Date.now() - started} ms): ${reason}`);
    } finally {
      clearTimeout(timer);
    }
  }
  if (process.env.RESULTS_FILE) {
    fs.writeFileSync(process.env.RESULTS_FILE, JSON.stringify(results, null, 2));
  }
  const failed = Object.values(results).filter((r) => !r.pass).length;
  console.log(`${Object.keys(results).length - failed} passed, ${failed} failed`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
