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

  // ---- safe Markdown: DOM nodes and textContent only ----
  function safeUrl(href) {
    try {
      var u = new URL(href);
      return u.protocol === 'https:' ? u.href : null;
    } catch (e) { return null; }
  }
  var INLINE = /(`[^`\n]+`)|(!\[[^\]]*\]\([^)]*\))|(\[[^\]\n]+\]\([^)\s]+\))|(\*\*[^*\n]+\*\*)|(__[^_\n]+__)|(\*[^*\s][^*\n]*\*)|(https:\/\/[^\s<>()]+[^\s<>().,;:!?'"])/g;
  function inline(parent, text) {
    var last = 0;
    text.replace(INLINE, function (m, code, img, link, bold, bold2, em, bare, offset) {
      if (offset > last) { parent.appendChild(document.createTextNode(text.slice(last, offset))); }
      if (code) {
        parent.appendChild(el('code', null, code.slice(1, -1)));
      } else if (img) {
        // images are never loaded (they could leak data to another host): keep the alt text
        parent.appendChild(document.createTextNode(img.slice(2, img.indexOf(']'))));
      } else if (link) {
        var close = link.indexOf('](');
        var label = link.slice(1, close);
        var href = safeUrl(link.slice(close + 2, -1));
        if (href) {
          var a = el('a', null, label);
          a.href = href; a.target = '_blank'; a.rel = 'noopener nofollow noreferrer';
          parent.appendChild(a);
        } else {
          parent.appendChild(document.createTextNode(label));
        }
      } else if (bold || bold2) {
        inline(parent.appendChild(el('strong')), (bold || bold2).slice(2, -2));
      } else if (em) {
        inline(parent.appendChild(el('em')), em.slice(1, -1));
      } else if (bare) {
        var url = safeUrl(bare);
        if (url) {
          var b = el('a', null, bare);
          b.href = url; b.target = '_blank'; b.rel = 'noopener nofollow noreferrer';
          parent.appendChild(b);
        } else {
          parent.appendChild(document.createTextNode(bare));
        }
      }
      last = offset + m.length;
      return m;
    });
    if (last < text.length) { parent.appendChild(document.createTextNode(text.slice(last))); }
  }
  function lines(parent, textLines) {
    textLines.forEach(function (line, i) {
      if (i > 0) { parent.appendChild(el('br')); }
      inline(parent, line);
    });
  }
  function markdown(target, source) {
    while (target.firstChild) { target.removeChild(target.firstChild); }
    var rows = String(source).replace(/\r\n?/g, '\n').split('\n');
    var i = 0;
    while (i < rows.length) {
      var row = rows[i];
      if (/^\s*```/.test(row)) {
        var code = [];
        i++;
        while (i < rows.length && !/^\s*```/.test(rows[i])) { code.push(rows[i]); i++; }
        i++;
        var pre = el('pre');
        pre.appendChild(el('code', null, code.join('\n')));
        target.appendChild(pre);
      } else if (/^\s*$/.test(row)) {
        i++;
      } else if (/^#{1,6}\s/.test(row)) {
        inline(target.appendChild(el('p', 'h')), row.replace(/^#{1,6}\s+/, ''));
        i++;
      } else if (/^\s*([-*+]|\d{1,3}[.)])\s+/.test(row)) {
        var ordered = /^\s*\d/.test(row);
        var list = target.appendChild(el(ordered ? 'ol' : 'ul'));
        while (i < rows.length && /^\s*([-*+]|\d{1,3}[.)])\s+/.test(rows[i]) && /^\s*\d/.test(rows[i]) === ordered) {
          inline(list.appendChild(el('li')), rows[i].replace(/^\s*([-*+]|\d{1,3}[.)])\s+/, ''));
          i++;
        }
      } else if (/^>\s?/.test(row)) {
        var quote = [];
        while (i < rows.length && /^>\s?/.test(rows[i])) { quote.push(rows[i].replace(/^>\s?/, '')); i++; }
        lines(target.appendChild(el('blockquote')), quote);
      } else {
        var para = [];
        while (i < rows.length && !/^\s*$/.test(rows[i]) && !/^\s*```/.test(rows[i]) && !/^#{1,6}\s/.test(rows[i])
          && !/^\s*([-*+]|\d{1,3}[.)])\s+/.test(rows[i])) { para.push(rows[i]); i++; }
        lines(target.appendChild(el('p')), para);
      }
    }
  }

  // ---- UI ----
  var CSS = ':host{all:initial}' +
    '*{box-sizing:border-box}' +
    '.dc{all:initial;--c:#2563eb;--ink:#fff;--link:#2563eb;--focus:#1d4ed8;--edge:#6b7280;position:fixed;letter-spacing:normal;word-spacing:normal;text-transform:none;text-align:left;font-style:normal;font-weight:400;white-space:normal;direction:ltr;bottom:20px;right:20px;z-index:2147483000;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"PingFang SC","Microsoft YaHei",sans-serif;color:#1f2430}' +
    '.dc.left{left:20px;right:auto}' +
    '.launcher{width:56px;height:56px;border-radius:50%;border:0;background:var(--c);color:var(--ink);cursor:pointer;box-shadow:0 6px 20px rgba(0,0,0,.22);display:grid;place-items:center}' +
    '.launcher svg{width:26px;height:26px;fill:currentColor}' +
    '.launcher:focus-visible,button:focus-visible,textarea:focus-visible,a:focus-visible,summary:focus-visible,.log:focus-visible{outline:3px solid var(--focus);outline-offset:2px}' +
    '.head button:focus-visible{outline-color:var(--ink)}' +
    '.panel{position:absolute;bottom:72px;right:0;width:370px;height:min(600px,calc(100vh - 110px));background:#fff;border-radius:14px;box-shadow:0 12px 40px rgba(0,0,0,.2);display:flex;flex-direction:column;overflow:hidden}' +
    '.left .panel{left:0;right:auto}' +
    '.panel[hidden]{display:none}' +
    '.head{background:var(--c);color:var(--ink);padding:12px 14px;display:flex;align-items:center;justify-content:space-between;gap:8px}' +
    '.head h2{font-size:15px;margin:0;font-weight:650}' +
    '.x{background:transparent;border:0;color:var(--ink);font-size:22px;line-height:1;cursor:pointer;padding:2px 6px;border-radius:6px}' +
    '.notice{background:#fffbeb;color:#92400e;font-size:12px;padding:6px 12px;border-bottom:1px solid #fde68a}' +
    '.log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:10px;background:#f8fafc}' +
    '.m{max-width:86%;padding:8px 11px;border-radius:12px;overflow-wrap:anywhere;white-space:normal}' +
    '.m.user{align-self:flex-end;background:var(--c);color:var(--ink);border-bottom-right-radius:4px}' +
    '.m.assistant{align-self:flex-start;background:#fff;border:1px solid #e5e7eb;border-bottom-left-radius:4px}' +
    '.m.error{align-self:center;background:#fef2f2;color:#991b1b;font-size:13px}' +
    '.m p{margin:0 0 6px}.m p:last-child{margin:0}.m p.h{font-weight:700}' +
    '.m pre{background:#0f172a;color:#e2e8f0;padding:8px;border-radius:8px;overflow-x:auto;white-space:pre-wrap;margin:6px 0}' +
    '.m code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px}' +
    '.m ul,.m ol{margin:4px 0;padding-left:20px}.m blockquote{margin:4px 0;padding-left:8px;border-left:3px solid #e5e7eb;color:#4b5563}' +
    '.m.user a{color:var(--ink)}.m a{color:var(--link)}' +
    '.cites{margin-top:6px;font-size:12.5px;border-top:1px solid #f1f5f9;padding-top:4px}' +
    '.cites summary{cursor:pointer;color:#475569}.cites ol{margin:4px 0 0;padding-left:4px;list-style:none}.cites li span{color:#64748b}' +
    '.fb{display:flex;gap:4px;margin-top:6px}.fb button{border:1px solid var(--edge);color:#1f2430;background:#fff;border-radius:6px;cursor:pointer;padding:2px 8px;font-size:13px}' +
    '.fb button[aria-pressed=true]{background:var(--c);color:var(--ink);border-color:var(--c)}' +
    '.fb svg{width:14px;height:14px;fill:currentColor;display:block}.fb .down svg{transform:rotate(180deg)}' +
    '.note{display:flex;gap:4px;margin-top:6px}.note input{flex:1;min-width:0;border:1px solid #d1d5db;border-radius:6px;padding:3px 6px;font:inherit;font-size:13px}' +
    '.note button,.rate button{border:0;background:var(--c);color:#fff;border-radius:6px;cursor:pointer;padding:3px 10px;font:inherit;font-size:13px}' +
    '.rate{align-self:stretch;background:#fff;border:1px solid #e5e7eb;border-radius:12px;padding:10px 12px;margin:0}' +
    '.rate fieldset{border:0;padding:0;margin:0}.rate legend{font-weight:650;padding:0}.rate .stars{position:relative;display:flex;gap:4px;margin:4px 0 8px}' +
    '.rate .stars input{position:absolute;opacity:0;width:1px;height:1px}' +
    '.rate .stars label{cursor:pointer;font-size:22px;line-height:1;color:#cbd5e1;padding:2px}' +
    '.rate .stars label.on{color:#f59e0b}.rate .stars input:focus-visible+label{outline:3px solid #93c5fd;border-radius:4px}' +
    '.rate textarea{width:100%;border:1px solid #d1d5db;border-radius:8px;padding:6px 8px;font:inherit;font-size:13px;resize:vertical;margin:4px 0 8px}' +
    '.rate button:disabled{opacity:.5;cursor:default}' +
    '.typing{align-self:flex-start;display:flex;gap:4px;padding:10px 12px;background:#fff;border:1px solid #e5e7eb;border-radius:12px}' +
    '.typing[hidden]{display:none}.typing i{width:6px;height:6px;border-radius:50%;background:#94a3b8;animation:b 1s infinite}' +
    '.typing i:nth-child(2){animation-delay:.15s}.typing i:nth-child(3){animation-delay:.3s}' +
    '@keyframes b{0%,80%,100%{opacity:.3}40%{opacity:1}}' +
    '@media (prefers-reduced-motion:reduce){.typing i{animation:none}}' +
    '.form{display:flex;gap:8px;padding:10px;border-top:1px solid #e5e7eb;background:#fff}' +
    '.form textarea{flex:1;resize:none;border:1px solid var(--edge);border-radius:10px;padding:8px 10px;font:inherit;height:42px;max-height:120px;color:#1f2430}' +
    '.send{border:0;background:var(--c);color:var(--ink);border-radius:10px;padding:0 14px;cursor:pointer;font:inherit;font-weight:600}' +
    '.send:disabled{opacity:.5;cursor:default}' +
    '.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}' +
    '@media (max-width:480px){.dc{bottom:12px;right:12px}.dc.left{left:12px}.panel{position:fixed;inset:0;width:auto;height:auto;border-radius:0}.dc.open .launcher{display:none}}';

  // WCAG relative luminance of #rrggbb
  function luminance(hex) {
    return [1, 3, 5].reduce(function (sum, at, i) {
      var c = parseInt(hex.substr(at, 2), 16) / 255;
      return sum + [0.2126, 0.7152, 0.0722][i] * (c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4));
    }, 0);
  }
  // human handoff (issue #18): the person button, queue status, agent messages, the offline form
  CSS += '.hbar{display:flex;align-items:center;justify-content:space-between;gap:8px;padding:6px 10px;border-top:1px solid #e5e7eb;background:#fff;font-size:12.5px;color:#475569}' +
    '.hbar[hidden],.human[hidden],.hstatus:empty{display:none}' +
    '.human{border:1px solid var(--c);background:#fff;color:#1f2430;border-radius:999px;padding:3px 10px;cursor:pointer;font:inherit;font-weight:600}' +
    '.human:disabled{opacity:.5;cursor:default}' +
    '.m.agent{align-self:flex-start;background:#ecfdf5;border:1px solid #a7f3d0;border-bottom-left-radius:4px}' +
    '.m .who{display:block;font-size:11.5px;font-weight:650;color:#047857;margin-bottom:2px}' +
    '.m.sys{align-self:center;background:transparent;color:#64748b;font-size:12.5px;text-align:center;padding:2px 8px}' +
    '.atyping{align-self:flex-start;font-size:12.5px;color:#047857}.atyping[hidden]{display:none}' +
    '.ticket{align-self:stretch;max-width:none;background:#fff;border:1px solid #e5e7eb;display:grid;gap:6px}' +
    '.ticket label{display:grid;gap:2px;font-size:12.5px;color:#374151}' +
    '.ticket input,.ticket textarea{font:inherit;border:1px solid #d1d5db;border-radius:8px;padding:6px 8px;color:#1f2430;width:100%}' +
    '.ticket textarea{resize:vertical;min-height:64px}.ticket .row{display:flex;gap:6px;justify-content:flex-end}' +
    '.ticket .row button{border:1px solid var(--c);border-radius:8px;padding:5px 12px;cursor:pointer;font:inherit;font-weight:600;background:var(--c);color:var(--ink)}' +
    '.ticket .row button.plain{background:#fff;color:#1f2430}.ticket .err{color:#991b1b;font-size:12.5px}' +
    '.human:focus-visible,input:focus-visible{outline:3px solid #93c5fd;outline-offset:2px}';

  function build() {
    var host = el('div');
    host.setAttribute('data-deepchat', '');
    var root = host.attachShadow({ mode: 'open' });
    if (root.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === 'function') {
      try {
        var sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); root.adoptedStyleSheets = [sheet];
      } catch (e) { root.appendChild(el('style', null, CSS)); }
    } else {
      root.appendChild(el('style', null, CSS));
    }
    var wrap = root.appendChild(el('div', 'dc' + (config.position === 'left' ? ' left' : '')));
    wrap.setAttribute('lang', config.language === 'zh' ? 'zh' : 'en');
    if (/^#[0-9a-fA-F]{6}$/.test(config.primaryColor || '')) {
      // text on the workspace's colour stays readable (WCAG AA 4.5:1) whatever colour it picked
      var onWhite = 1.05 / (luminance(config.primaryColor) + 0.05);
      wrap.style.setProperty('--c', config.primaryColor);
      wrap.style.setProperty('--ink', onWhite >= 4.5 ? '#fff' : '#111827');
      wrap.style.setProperty('--link', onWhite >= 4.5 ? config.primaryColor : '#1f2430');
    }
    var panel = wrap.appendChild(el('div', 'panel'));
    panel.id = 'dc-panel'; panel.hidden = true;
    panel.setAttribute('role', 'dialog'); panel.setAttribute('aria-labelledby', 'dc-title');
    var head = panel.appendChild(el('div', 'head'));
    var title = head.appendChild(el('h2', null, config.title || 'Chat'));
    title.id = 'dc-title';
    var close = head.appendChild(el('button', 'x', '×'));
    close.type = 'button'; close.setAttribute('aria-label', t.close);
    if (config.testModel && config.notice) {
      var notice = panel.appendChild(el('div', 'notice', config.notice));
      notice.setAttribute('role', 'note');
    }
    var log = panel.appendChild(el('div', 'log'));
    // not a live region: a streamed reply is rebuilt on every frame; settled messages are read out by `live`
    log.setAttribute('role', 'region'); log.setAttribute('aria-label', config.title || 'Chat');
    log.setAttribute('tabindex', '0');
    if (config.greeting) { markdown(log.appendChild(el('div', 'm assistant greeting')), config.greeting); }
    var typing = el('div', 'typing');
    typing.hidden = true;
    typing.appendChild(el('span', 'sr', t.typing));
    [0, 1, 2].forEach(function () { typing.appendChild(el('i')).setAttribute('aria-hidden', 'true'); });
    var live = panel.appendChild(el('div', 'sr'));
    live.setAttribute('role', 'status'); live.setAttribute('aria-live', 'polite'); live.setAttribute('aria-atomic', 'true');
    var form = panel.appendChild(el('form', 'form'));
    var label = form.appendChild(el('label', 'sr', t.message));
    label.htmlFor = 'dc-input';
    var input = form.appendChild(el('textarea'));
    input.id = 'dc-input'; input.rows = 1; input.placeholder = t.placeholder; input.maxLength = 8000;
    var send = form.appendChild(el('button', 'send', t.send));
    send.type = 'submit';
    var launcher = wrap.appendChild(el('button', 'launcher'));
    launcher.type = 'button'; launcher.setAttribute('aria-label', t.open);
    launcher.setAttribute('aria-expanded', 'false'); launcher.setAttribute('aria-controls', 'dc-panel');
    var svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', '0 0 24 24'); svg.setAttribute('aria-hidden', 'true');
    var path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    path.setAttribute('d', 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z');
    svg.appendChild(path); launcher.appendChild(svg);

    ui = { host: host, root: root, wrap: wrap, panel: panel, log: log, typing: typing, live: live, input: input, send: send,
      launcher: launcher };
    buildHandoff(panel, form);
    launcher.addEventListener('click', function () { toggle(panel.hidden); });
    close.addEventListener('click', function () { toggle(false); });
    panel.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') { e.stopPropagation(); toggle(false); } else if (e.key === 'Tab') { trapFocus(e); }
    });
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
    });
    form.addEventListener('submit', function (e) { e.preventDefault(); submit(); });
    document.body.appendChild(host);
    if (state.open) { toggle(true, true); }
  }

  // Full screen on a phone the panel is modal: Tab and Shift+Tab cycle inside it, never to the page behind.
  function fullScreen() { return window.matchMedia && window.matchMedia('(max-width:480px)').matches; }
  function trapFocus(e) {
    if (!fullScreen()) { return; }
    var items = Array.prototype.filter.call(ui.panel.querySelectorAll('button,textarea,a[href],summary,[tabindex="0"]'),
      function (n) { return !n.disabled && n.getClientRects().length > 0; });
    if (!items.length) { return; }
    var first = items[0];
    var last = items[items.length - 1];
    var at = ui.root.activeElement;
    if (e.shiftKey ? (at === first || items.indexOf(at) < 0) : (at === last || items.indexOf(at) < 0)) {
      e.preventDefault();
      (e.shiftKey ? last : first).focus();
    }
  }
  // One announcement per settled message (and one for the typing indicator), never per streamed frame.
  function announce(text) {
    ui.live.textContent = '';
    setTimeout(function () { ui.live.textContent = text; }, 50);
  }

  function toggle(open, restoring) {
    ui.panel.hidden = !open;
    ui.wrap.classList.toggle('open', open);
    if (open && fullScreen()) { ui.panel.setAttribute('aria-modal', 'true'); } else { ui.panel.removeAttribute('aria-modal'); }
    ui.launcher.setAttribute('aria-expanded', String(open));
    ui.launcher.setAttribute('aria-label', open ? t.close : t.open);
    state.open = open; save();
    if (open) {
      connect();
      if (!restoring) { ui.input.focus(); }
      scroll();
    } else if (!restoring) {
      ui.launcher.focus();
    }
  }

  function scroll() { ui.log.scrollTop = ui.log.scrollHeight; }

  // ---- messages ----
  var THUMB = 'M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6C6.2 7.9 6 8.4 6 9v10'
    + 'a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z';
  function icon(d) {
    var svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', '0 0 24 24'); svg.setAttribute('aria-hidden', 'true');
    var p = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    p.setAttribute('d', d);
    svg.appendChild(p);
    return svg;
  }
  function bubble(role) {
    var b = el('div', 'm ' + role);
    b.appendChild(el('span', 'sr', (role === 'user' ? t.you : t.assistant) + ': '));
    b.appendChild(el('div', 'body'));
    ui.log.insertBefore(b, ui.typing.parentNode === ui.log ? ui.typing : null);
    return b;
  }
  function setBody(b, text) { markdown(b.querySelector('.body'), text); }
  function citations(b, list) {
    var old = b.querySelector('.cites');
    if (old) { old.parentNode.removeChild(old); }
    if (!list || !list.length) { return; }
    var details = el('details', 'cites');
    details.appendChild(el('summary', null, t.sources + ' (' + list.length + ')'));
    var ol = details.appendChild(el('ol'));
    list.forEach(function (c) {
      var li = ol.appendChild(el('li', null, '[' + (c.n != null ? c.n : '') + '] ' + (c.title || '')));
      if (c.section) { li.appendChild(document.createTextNode(' ')); li.appendChild(el('span', null, c.section)); }
    });
    b.appendChild(details);
  }
  function feedback(b, messageId, current) {
    if (!messageId || b.querySelector('.fb')) { return; }
    var row = b.appendChild(el('div', 'fb'));
    [[1, THUMB, t.helpful], [-1, THUMB, t.unhelpful]].forEach(function (f) {
      var button = row.appendChild(el('button', f[0] < 0 ? 'down' : 'up'));
      button.appendChild(icon(f[1]));
      button.type = 'button'; button.setAttribute('aria-label', f[2]);
      button.setAttribute('aria-pressed', String(current === f[0]));
      button.addEventListener('click', function () {
        api('/widget/feedback', { method: 'POST', auth: true, body: { messageId: messageId, value: f[0] } }).then(function (r) {
          if (!r.ok) { return; }
          row.querySelectorAll('button').forEach(function (x) { x.setAttribute('aria-pressed', String(x === button)); });
          button.title = t.thanks;
          note(b, messageId, f[0]);
        });
      });
    });
  }
  // an optional free-text comment on the answer just rated, sent with the same thumb
  function note(b, messageId, value) {
    var old = b.querySelector('.note');
    if (old) { old.parentNode.removeChild(old); }
    var form = b.appendChild(el('form', 'note'));
    var input = form.appendChild(el('input'));
    input.type = 'text'; input.maxLength = 2000; input.placeholder = t.tellMore; input.setAttribute('aria-label', t.tellMore);
    var send = form.appendChild(el('button', null, t.send));
    send.type = 'submit';
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (!input.value.trim()) { return; }
      send.disabled = true;
      api('/widget/feedback', { method: 'POST', auth: true, body: { messageId: messageId, value: value, comment: input.value } })
        .then(function (r) {
          if (!r.ok) { send.disabled = false; return; }
          var done = el('div', 'note', t.thanks);
          done.setAttribute('role', 'status');
          form.parentNode.replaceChild(done, form);
        }, function () { send.disabled = false; });
    });
  }

  // after staff resolved the conversation (handoff.resolved with rate): 1-5 stars and a comment
  function ratingForm(conversationId) {
    if (!conversationId || ui.log.querySelector('.rate[data-conversation="' + conversationId + '"]')) { return; }
    var form = el('form', 'rate');
    form.setAttribute('data-conversation', conversationId);
    var field = form.appendChild(el('fieldset'));
    field.appendChild(el('legend', null, t.rateTitle));
    var stars = field.appendChild(el('div', 'stars'));
    var labels = [];
    var chosen = 0;
    var send = el('button', null, t.rateSend);
    send.type = 'submit'; send.disabled = true;
    for (var i = 1; i <= 5; i++) {
      var radio = stars.appendChild(el('input'));
      radio.type = 'radio'; radio.name = 'dc-score-' + conversationId; radio.value = String(i);
      radio.id = 'dc-score-' + conversationId + '-' + i;
      var label = stars.appendChild(el('label', null, '★'));
      label.htmlFor = radio.id; label.setAttribute('aria-label', i + t.stars); label.title = i + t.stars;
      labels.push(label);
      radio.addEventListener('change', function (e) {
        chosen = Number(e.target.value);
        labels.forEach(function (l, n) { l.className = n < chosen ? 'on' : ''; });
        send.disabled = false;
      });
    }
    var commentLabel = form.appendChild(el('label', 'sr', t.rateComment));
    var comment = form.appendChild(el('textarea'));
    comment.id = 'dc-rate-comment-' + conversationId; commentLabel.htmlFor = comment.id;
    comment.rows = 2; comment.maxLength = 2000; comment.placeholder = t.rateComment;
    form.appendChild(send);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (!chosen) { return; }
      send.disabled = true;
      api('/widget/rating', { method: 'POST', auth: true,
        body: { conversation_id: conversationId, score: chosen, comment: comment.value || undefined } })
        .then(function (r) {
          // 409: this resolution was rated already (another tab): thanked all the same
          if (!r.ok && r.status !== 409) { send.disabled = false; showError(t.error); return; }
          var done = el('div', 'm assistant', t.rateThanks);
          done.setAttribute('role', 'status');
          form.parentNode.replaceChild(done, form);
          scroll();
        }, function () { send.disabled = false; showError(t.error); });
    });
    ui.log.insertBefore(form, ui.typing.parentNode === ui.log ? ui.typing : null);
    scroll();
  }

  function showError(text) {
    var e = el('div', 'm error', text);
    e.setAttribute('role', 'alert');
    ui.log.insertBefore(e, ui.typing.parentNode === ui.log ? ui.typing : null);
    scroll();
  }
  function typing(on) {
    if (on) { ui.log.appendChild(ui.typing); announce(t.typing); }
    ui.typing.hidden = !on;
    scroll();
  }

  // ---- session and history ----
  // One session request at a time: a turn sent while it is in flight waits for its token.
  var sessionInFlight = null;
  function session() {
    if (!sessionInFlight) {
      var done = function () { sessionInFlight = null; };
      sessionInFlight = openSession();
      sessionInFlight.then(done, done);
    }
    return sessionInFlight;
  }
  function openSession() {
    return api('/widget/session', { method: 'POST', body: { key: KEY, visitorToken: state.visitorToken || undefined } })
      .then(function (r) {
        if (r.status === 401 && state.visitorToken) { state.visitorToken = null; save(); return openSession(); }
        if (!r.ok) { throw new Error('session ' + r.status); }
        return r.json();
      }).then(function (s) {
        if (!s || !s.visitorToken) { return s; }
        state.visitorToken = s.visitorToken;
        state.visitorId = s.visitorId;
        if (!state.conversationId && s.conversationId) { state.conversationId = s.conversationId; }
        save();
        return s;
      });
  }
  function history() {
    var q = state.conversationId ? '?conversationId=' + encodeURIComponent(state.conversationId) : '';
    return api('/widget/history' + q, { auth: true }).then(function (r) { return r.ok ? r.json() : null; }).then(function (h) {
      if (!h || !h.messages) { return; }
      if (h.conversationId) { state.conversationId = h.conversationId; save(); }
      h.messages.forEach(function (m) {
        if (m.role === 'agent') { agentBubble(m.content, m.agent && m.agent.name, m.id); return; }
        if (m.role !== 'user' && m.role !== 'assistant') { return; }
        var b = bubble(m.role);
        b.setAttribute('data-message-id', m.id || '');
        setBody(b, m.content || '');
        if (m.role === 'assistant') { citations(b, m.citations); feedback(b, m.id, m.feedback); }
      });
      if (h.handoff) { handoffState(h.handoff); }
      scroll();
    });
  }

  // ---- streaming: WebSocket first, SSE (POST /widget/chat) as fallback ----
  function connect() {
    if (ws || reconnectTimer || !state.visitorToken || wsFailures >= 3 || typeof WebSocket !== 'function') { return; }
    var url = BASE.replace(/^http/, 'ws') + '/widget/ws?token=' + encodeURIComponent(state.visitorToken);
    var socket;
    try { socket = new WebSocket(url); } catch (e) { wsFailures++; return; }
    var opened = false;
    ws = socket;
    socket.onopen = function () {
      opened = true; wsFailures = 0; backoff = 500;
      ui.host.setAttribute('data-connected', 'true'); // lets tests and host pages see the live transport
    };
    socket.onmessage = function (e) {
      var event;
      try { event = JSON.parse(e.data); } catch (err) { return; }
      if (event.type === 'ping') { socket.send(JSON.stringify({ type: 'pong' })); return; }
      if (handoffFrame(event)) { return; }
      handle(event);
    };
    socket.onclose = function () {
      ws = null;
      ui.host.setAttribute('data-connected', 'false');
      if (!opened) { wsFailures++; }
      if (pending && !pending.viaSse) { retryOverSse(); }
      // reconnect with exponential backoff and jitter, only while the visitor may still chat
      var delay = Math.min(30000, backoff) * (0.75 + Math.random() * 0.5);
      backoff = Math.min(30000, backoff * 2);
      reconnectTimer = setTimeout(function () { reconnectTimer = null; if (state.open) { connect(); } }, delay);
    };
  }

  function submit() {
    var text = ui.input.value.trim();
    if (!text || pending) { return; }
    ui.input.value = '';
    setBody(bubble('user'), text);
    pending = { clientMessageId: uuid(), text: text, bubble: null, content: '', viaSse: false };
    ui.send.disabled = true;
    if (handoffActive()) { pending.handoff = true; visitorStopped(); } else { typing(true); }
    var message = { type: 'message', text: text, conversationId: state.conversationId || null,
      clientMessageId: pending.clientMessageId };
    if (ws && ws.readyState === 1) {
      ws.send(JSON.stringify(message));
    } else {
      retryOverSse();
    }
  }

  // The same clientMessageId makes a retry idempotent: the server stores the turn once.
  function retryOverSse() {
    var turn = pending;
    turn.viaSse = true;
    // the first question may be sent before the session has answered (no WebSocket to wait for)
    (state.visitorToken ? Promise.resolve() : session()).then(function () {
      return fetch(BASE + '/widget/chat', { method: 'POST', mode: 'cors', credentials: 'omit',
        headers: { 'Content-Type': 'application/json', 'Accept': 'text/event-stream',
          'Authorization': 'Bearer ' + state.visitorToken },
        body: JSON.stringify({ type: 'message', text: turn.text, conversationId: state.conversationId || null,
          clientMessageId: turn.clientMessageId }) });
    })
      .then(function (r) {
        if (!r.ok || !r.body) {
          return r.json().then(function (b) { throw new Error(b && b.error && b.error.message || String(r.status)); },
            function () { throw new Error(String(r.status)); });
        }
        var reader = r.body.getReader();
        var decoder = new TextDecoder();
        var buffer = '';
        var pump = function () {
          return reader.read().then(function (chunk) {
            if (chunk.done) { if (pending === turn) { handle({ type: 'error', message: t.error }); } return; }
            buffer += decoder.decode(chunk.value, { stream: true });
            var events = buffer.split(/\n\n/);
            buffer = events.pop();
            events.forEach(function (block) {
              var data = block.split('\n').filter(function (l) { return l.indexOf('data:') === 0; })
                .map(function (l) { return l.slice(5).replace(/^ /, ''); }).join('\n');
              if (data) { try { handle(JSON.parse(data)); } catch (e) { /* malformed event: skip */ } }
            });
            return pending === turn ? pump() : reader.cancel();
          });
        };
        return pump();
      })
      .catch(function (err) { if (pending === turn) { handle({ type: 'error', message: err && err.message }); } });
  }

  var renderQueued = false;
  function render() {
    if (renderQueued) { return; }
    renderQueued = true;
    requestAnimationFrame(function () {
      renderQueued = false;
      if (pending && pending.bubble) { setBody(pending.bubble, pending.content); scroll(); }
    });
  }

  function handle(event) {
    if (!pending) { return; }
    if (event.type === 'start') {
      if (event.conversationId) { state.conversationId = event.conversationId; save(); }
      pending.messageId = event.messageId;
      if (pending.handoff) { return; } // stored for the agent: no answer follows
      if (!pending.bubble) { pending.bubble = bubble('assistant'); }
      pending.bubble.setAttribute('data-message-id', event.messageId || '');
      pending.bubble.setAttribute('aria-busy', 'true');
    } else if (event.type === 'delta') {
      if (!pending.bubble) { pending.bubble = bubble('assistant'); }
      if (typeof event.content === 'string') { pending.content += event.content; }
      typing(false);
      render();
    } else if (event.type === 'citations') {
      if (!pending.bubble) { pending.bubble = bubble('assistant'); }
      citations(pending.bubble, event.citations);
    } else if (event.type === 'done') {
      typing(false);
      if (pending.handoff && !pending.bubble && !pending.content) { finish(); return; }
      var b = pending.bubble || bubble('assistant');
      setBody(b, pending.content);
      b.removeAttribute('aria-busy');
      var cites = b.querySelector('.cites');
      if (cites) { b.appendChild(cites); }
      feedback(b, event.messageId || pending.messageId, null);
      announce(t.assistant + ': ' + b.querySelector('.body').textContent);
      finish();
    } else if (event.type === 'visitor.stored') {
      typing(false); // kept for the staff: no answer comes
      finish();
    } else if (event.type === 'error') {
      typing(false);
      if (pending.bubble) { pending.bubble.removeAttribute('aria-busy'); }
      showError(event.message || t.error);
      finish();
    }
  }
  function finish() {
    pending = null;
    ui.send.disabled = false;
    scroll();
  }

  // ---- human handoff (issue #18) ----
  // A visitor asks for a person (the button, or words the server recognises); the conversation waits in
  // the queue, then an agent answers in it and the bot is silent until the agent resolves it. Outside
  // business hours the visitor leaves a message instead (a ticket). Frames arrive on the same socket.
  var HANDOFF_TEXT = {
    en: { ask: 'Talk to a person', queued: 'You are number {p} in the queue.', wait: 'Expected wait: about {m} min.',
      waiting: 'Waiting for a person…', assigned: 'You are chatting with {name}.', joined: '{name} joined the conversation.',
      typing: '{name} is typing…', agent: 'Agent', offline: 'No one is available right now. Leave a message and we will get back to you.',
      opens: 'We are back {t}.', message: 'Your message', name: 'Name', email: 'E-mail', phone: 'Phone',
      leave: 'Send message', cancel: 'Cancel', sent: 'Thanks, your message was sent. We will get back to you.',
      bot: 'The conversation is back with the assistant.', closed: 'The conversation was closed. Thank you!',
      failed: 'Could not reach a person. Please try again.' },
    zh: { ask: '转人工客服', queued: '您在队列中排第 {p} 位。', wait: '预计等待约 {m} 分钟。',
      waiting: '正在为您转接人工客服…', assigned: '{name} 正在为您服务。', joined: '{name} 已加入对话。',
      typing: '{name} 正在输入…', agent: '客服', offline: '现在没有客服在线。请留言，我们会尽快回复您。',
      opens: '我们将于 {t} 上线。', message: '留言内容', name: '姓名', email: '邮箱', phone: '电话',
      leave: '提交留言', cancel: '取消', sent: '留言已提交，我们会尽快联系您。',
      bot: '对话已交回智能助手。', closed: '对话已结束，谢谢！', failed: '暂时无法转接人工，请重试。' }
  };
  var handoff = { state: 'bot', agent: null, typingSent: false, typingTimer: null, agentTypingTimer: null };
  function ht(key, params) {
    var text = (HANDOFF_TEXT[config && config.language] || HANDOFF_TEXT.en)[key];
    return text.replace(/\{(\w+)\}/g, function (m, k) { return params && params[k] != null ? String(params[k]) : ''; });
  }
  function handoffActive() { return handoff.state === 'queued' || handoff.state === 'assigned'; }

  function buildHandoff(panel, form) {
    var bar = el('div', 'hbar');
    ui.hstatus = bar.appendChild(el('span', 'hstatus'));
    ui.human = bar.appendChild(el('button', 'human', ht('ask')));
    ui.human.type = 'button';
    ui.human.hidden = config.handoff === false;
    ui.human.addEventListener('click', askForPerson);
    panel.insertBefore(bar, form);
    ui.hbar = bar;
    // the agent's typing, shown where the next message will appear
    ui.atyping = el('div', 'atyping');
    ui.input.addEventListener('input', visitorTyping);
  }
  /** Adds to the log in arrival order: above the typing indicators, which stay last. */
  function place(node) {
    ui.log.insertBefore(node, ui.typing.parentNode === ui.log ? ui.typing
      : ui.atyping.parentNode === ui.log ? ui.atyping : null);
  }
  function systemLine(text) {
    var line = el('div', 'm sys', text);
    place(line);
    scroll();
    announce(text);
  }
  function showHandoff() {
    var active = handoffActive();
    ui.human.hidden = config.handoff === false || active || handoff.state === 'offline';
    var status = '';
    if (handoff.state === 'queued') {
      status = handoff.position ? ht('queued', { p: handoff.position }) : ht('waiting');
      if (handoff.wait > 0) { status += ' ' + ht('wait', { m: Math.max(1, Math.round(handoff.wait / 60)) }); }
    } else if (handoff.state === 'assigned') {
      status = ht('assigned', { name: agentName() });
    }
    ui.hstatus.textContent = status;
    ui.host.setAttribute('data-handoff', handoff.state);
  }
  function agentName() { return handoff.agent && handoff.agent.name ? handoff.agent.name : ht('agent'); }

  /** Applies a handoff state from the button's answer, a frame or the history; says what changed. */
  function handoffState(s) {
    if (!s || !s.state) { return; }
    var before = handoff.state;
    if (s.state === 'queued') {
      handoff.state = 'queued';
      handoff.position = s.position;
      handoff.wait = s.expected_wait_s;
      showHandoff();
      announce(ui.hstatus.textContent);
    } else if (s.state === 'assigned') {
      handoff.state = 'assigned';
      handoff.agent = s.agent || handoff.agent;
      showHandoff();
      if (before !== 'assigned') { systemLine(ht('joined', { name: agentName() })); }
    } else if (s.state === 'offline') {
      handoff.state = 'offline';
      showHandoff();
      ticketForm(s.opens_at);
    } else if (s.state === 'bot' || s.state === 'resolved') {
      handoff.state = 'bot';
      handoff.agent = null;
      agentTyping(false);
      showHandoff();
    }
  }

  function askForPerson() {
    // without a conversation yet the server creates one for the handoff (and names it in the answer)
    ui.human.disabled = true;
    var ready = state.visitorToken ? Promise.resolve() : session();
    ready.then(function () {
      return api('/widget/handoff', { method: 'POST', auth: true, body: { conversation_id: state.conversationId || null } });
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (b) {
        if (!r.ok) { throw new Error(b && b.error && b.error.message || ht('failed')); }
        return b;
      });
    }).then(function (b) {
      if (b.conversation_id) { state.conversationId = b.conversation_id; save(); }
      handoffState(b);
      connect();
    }).catch(function (err) {
      showError(err && err.message || ht('failed'));
    }).then(function () { ui.human.disabled = false; });
  }

  /** The message form outside business hours: stored as a ticket with the visitor's contact details. */
  function ticketForm(opensAt) {
    if (ui.ticket) { ui.ticket.querySelector('textarea').focus(); return; }
    var card = el('form', 'm ticket');
    card.noValidate = true;
    var intro = ht('offline');
    var opens = opensAt ? new Date(opensAt) : null;
    if (opens && !isNaN(opens.getTime())) {
      intro += ' ' + ht('opens', { t: opens.toLocaleString(config.language === 'zh' ? 'zh-CN' : 'en', {
        weekday: 'short', hour: '2-digit', minute: '2-digit' }) });
    }
    card.appendChild(el('p', null, intro));
    var fields = {};
    [['message', 'textarea'], ['name', 'input', 'text', 'name'], ['email', 'input', 'email', 'email'],
      ['phone', 'input', 'tel', 'tel']].forEach(function (f) {
      var label = card.appendChild(el('label', null, ht(f[0])));
      var input = label.appendChild(el(f[1]));
      if (f[2]) { input.type = f[2]; input.autocomplete = f[3]; }
      input.name = f[0];
      input.maxLength = f[0] === 'message' ? 4000 : 200;
      fields[f[0]] = input;
    });
    fields.message.required = true;
    var error = card.appendChild(el('div', 'err'));
    error.setAttribute('role', 'alert');
    var row = card.appendChild(el('div', 'row'));
    var cancel = row.appendChild(el('button', 'plain', ht('cancel')));
    cancel.type = 'button';
    var submitButton = row.appendChild(el('button', null, ht('leave')));
    submitButton.type = 'submit';
    cancel.addEventListener('click', function () { closeTicket(); handoffState({ state: 'bot' }); ui.input.focus(); });
    card.addEventListener('submit', function (e) {
      e.preventDefault();
      var body = { conversation_id: state.conversationId || null, message: fields.message.value.trim() };
      if (!body.message) { fields.message.focus(); return; }
      ['name', 'email', 'phone'].forEach(function (k) { if (fields[k].value.trim()) { body[k] = fields[k].value.trim(); } });
      submitButton.disabled = true;
      api('/widget/tickets', { method: 'POST', auth: true, body: body }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (b) {
          if (r.status !== 201 && r.status !== 200) { throw new Error(b && b.error && b.error.message || ht('failed')); }
        });
      }).then(function () {
        closeTicket();
        handoffState({ state: 'bot' });
        systemLine(ht('sent'));
        ui.input.focus();
      }).catch(function (err) {
        error.textContent = err.message; // kept: the visitor's text stays in the form to send again
        submitButton.disabled = false;
      });
    });
    ui.ticket = card;
    place(card);
    scroll();
    announce(intro);
    fields.message.focus();
  }
  function closeTicket() {
    if (ui.ticket) { ui.ticket.parentNode.removeChild(ui.ticket); ui.ticket = null; }
  }

  function agentBubble(text, name, id) {
    var b = el('div', 'm agent');
    b.appendChild(el('span', 'who', name || ht('agent')));
    b.appendChild(el('span', 'sr', ': '));
    b.appendChild(el('div', 'body'));
    if (id) { b.setAttribute('data-message-id', id); }
    setBody(b, text || '');
    place(b);
    return b;
  }
  function agentTyping(on) {
    clearTimeout(handoff.agentTypingTimer);
    if (on) {
      ui.atyping.textContent = ht('typing', { name: agentName() });
      ui.atyping.hidden = false;
      ui.log.appendChild(ui.atyping);
      scroll();
      // a lost "stopped typing" frame must not leave the indicator up for ever
      handoff.agentTypingTimer = setTimeout(function () { agentTyping(false); }, 15000);
    } else if (ui.atyping.parentNode) {
      ui.atyping.parentNode.removeChild(ui.atyping); // out of the log: messages keep their order
    }
  }
  function sendFrame(frame) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(frame)); }
  }
  /** Tells the agent the visitor is typing: at most one frame per 3 s, "stopped" after 4 s of quiet. */
  function visitorTyping() {
    if (!handoffActive() || !state.conversationId) { return; }
    if (!handoff.typingSent) {
      handoff.typingSent = true;
      sendFrame({ type: 'visitor.typing', conversation_id: state.conversationId, typing: true });
      setTimeout(function () { handoff.typingSent = false; }, 3000); // repeated while typing goes on
    }
    clearTimeout(handoff.typingTimer);
    handoff.typingTimer = setTimeout(visitorStopped, 4000);
  }
  function visitorStopped() {
    clearTimeout(handoff.typingTimer);
    handoff.typingSent = false; // after "stopped", the next key says "typing" again at once
    if (handoffActive() && state.conversationId) {
      sendFrame({ type: 'visitor.typing', conversation_id: state.conversationId, typing: false });
    }
  }

  /** Handles a handoff frame of the socket; false for the frames of a bot turn. */
  function handoffFrame(event) {
    var type = event.type;
    if (typeof type !== 'string' || !/^(handoff|agent)\./.test(type)) { return false; }
    if (event.conversation_id && state.conversationId && event.conversation_id !== state.conversationId) { return true; }
    if (event.conversation_id && !state.conversationId) { state.conversationId = event.conversation_id; save(); }
    if (type === 'handoff.queued') {
      handoffState({ state: 'queued', position: event.position, expected_wait_s: event.expected_wait_s });
    } else if (type === 'handoff.offline') {
      handoffState({ state: 'offline', opens_at: event.opens_at });
    } else if (type === 'handoff.assigned') {
      handoffState({ state: 'assigned', agent: event.agent });
    } else if (type === 'agent.message') {
      agentTyping(false);
      if (event.id && ui.log.querySelector('.m.agent[data-message-id="' + String(event.id).replace(/["\\]/g, '') + '"]')) {
        return true; // delivered twice (a retry across nodes): shown once
      }
      var name = event.agent && event.agent.name || agentName();
      agentBubble(event.text, name, event.id);
      scroll();
      announce(name + ': ' + (event.text || ''));
    } else if (type === 'agent.typing') {
      agentTyping(event.typing === true);
    } else if (type === 'handoff.resolved') {
      handoffState({ state: 'bot' });
      systemLine(ht(event.mode === 'closed' ? 'closed' : 'bot'));
      if (event.rate) { ratingForm(event.conversation_id); }
    }
    return true;
  }

  // ---- start ----
  // A refused config request says why (the server lets this page read the refusal): say it where the
  // page's developer looks, since the widget itself does not appear.
  function refused(r) {
    return r.json().catch(function () { return null; }).then(function (b) {
      var e = (b && b.error) || {};
      if (e.code === 'origin_not_allowed' && window.console) {
        console.error('DeepChat widget: not shown, because this page\'s origin ' + location.origin
          + ' is not an allowed origin of widget key ' + KEY + '. A workspace admin can allow it in the console: '
          + 'Widget page, "Recently refused origins" (one click) or "Allowed origins". Server said: ' + e.message);
      }
      var err = new Error('config ' + r.status + (e.message ? ': ' + e.message : ''));
      err.reported = e.code === 'origin_not_allowed';
      throw err;
    });
  }
  function start() {
    if (!KEY) { return; }
    fetch(BASE + '/widget/config?key=' + encodeURIComponent(KEY), { mode: 'cors', credentials: 'omit' })
      .then(function (r) { return r.ok ? r.json() : refused(r); })
      .then(function (c) {
        config = c || {};
        t = TEXT[config.language] || TEXT.en;
        build();
        return session().then(history).then(function () { if (state.open) { connect(); } });
      })
      .catch(function (err) {
        if (window.console && !(err && err.reported)) { console.warn('DeepChat widget unavailable:', err && err.message); }
      });
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
})();
