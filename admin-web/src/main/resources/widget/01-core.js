/*! DeepChat widget: one script, no dependencies. Embed with
 *  <script src="https://host/widget.js" data-key="pk_..." async></script>
 * Renders in a Shadow DOM (the host page's CSS cannot reach in, ours cannot leak out). Model output is
 * rendered by building DOM nodes with textContent only (never parsed as HTML), https links only, no images.
 * No cross-window messaging is used. */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || window.__deepchatWidget) { return; }
  window.__deepchatWidget = true;
  var KEY = script.getAttribute('data-key') || '';
  var BASE = new URL(script.src, location.href).origin;
  var STORE = 'deepchat:' + KEY;
  var TEXT = {
    en: { open: 'Open chat', close: 'Close chat', send: 'Send', placeholder: 'Type your question…',
      typing: 'Assistant is typing', sources: 'Sources', helpful: 'Helpful', unhelpful: 'Not helpful',
      thanks: 'Thanks for the feedback', error: 'Something went wrong. Please try again.',
      offline: 'Connection lost. Reconnecting…', message: 'Message', you: 'You', assistant: 'Assistant',
      tellMore: 'Tell us more (optional)', rateTitle: 'How did we do?', stars: ' of 5 stars',
      rateComment: 'Comment (optional)', rateSend: 'Send rating', rateThanks: 'Thank you for your rating!' },
    zh: { open: '打开聊天', close: '关闭聊天', send: '发送', placeholder: '请输入您的问题…',
      typing: '助手正在输入', sources: '参考来源', helpful: '有帮助', unhelpful: '没帮助',
      thanks: '感谢您的反馈', error: '出错了，请重试。', offline: '连接已断开，正在重连…', message: '消息',
      you: '您', assistant: '助手', tellMore: '补充说明（可选）', rateTitle: '请为本次服务评分', stars: ' 星（满分 5 星）',
      rateComment: '评论（可选）', rateSend: '提交评分', rateThanks: '感谢您的评分！' }
  };
  var t = TEXT.en;
  var state = load();
  var config = null;
  var ws = null;
  var wsFailures = 0;
  var backoff = 500;
  var reconnectTimer = null;
  var pending = null; // the turn in flight: {clientMessageId, text, bubble, content, reasoning, viaSse}
  var ui = {};

  function load() {
    try { return JSON.parse(localStorage.getItem(STORE)) || {}; } catch (e) { return {}; }
  }
  function save() {
    try { localStorage.setItem(STORE, JSON.stringify(state)); } catch (e) { /* private mode: per-page only */ }
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }
  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) { n.className = cls; }
    if (text != null) { n.textContent = text; }
    return n;
  }
  function api(path, options) {
    options = options || {};
    var headers = { 'Accept': 'application/json' };
    if (options.body) { headers['Content-Type'] = 'application/json'; }
    if (options.auth && state.visitorToken) { headers.Authorization = 'Bearer ' + state.visitorToken; }
    return fetch(BASE + path, { method: options.method || 'GET', headers: headers, mode: 'cors', credentials: 'omit',
      body: options.body ? JSON.stringify(options.body) : undefined });
  }

