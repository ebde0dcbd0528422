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

