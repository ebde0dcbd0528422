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

