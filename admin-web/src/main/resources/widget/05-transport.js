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

