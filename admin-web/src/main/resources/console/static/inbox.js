// DeepChat agent inbox (/console/inbox, issue #18): the queue and the agent's conversations, live from
// the server-sent events of /console/api/inbox/events (no polling), and one conversation at a time:
// its whole history, replies, internal notes, typing, claim, transfer and resolve.
// Everything the server sends is shown as text (textContent), never parsed as HTML.
(function () {
  'use strict';
  var root = document.getElementById('inbox');
  if (!root) { return; }
  var API = '/console/api/inbox';
  var me = root.getAttribute('data-me');
  var strings = document.getElementById('inbox-text');
  var $ = function (id) { return document.getElementById(id); };
  var text = function (name) { return strings.getAttribute('data-' + name) || name; };
  var ui = {
    grid: $('inbox-grid'), queue: $('inbox-queue'), mine: $('inbox-mine'), queueCount: $('inbox-queue-count'),
    mineCount: $('inbox-mine-count'), view: $('inbox-view'), pick: $('inbox-pick'), title: $('inbox-title'),
    state: $('inbox-state'), log: $('inbox-log'), typing: $('inbox-typing'), error: $('inbox-error'),
    reply: $('inbox-reply'), box: $('inbox-text-box'), send: $('inbox-send'), noteMode: $('inbox-note-mode'),
    canned: $('inbox-canned'), claim: $('inbox-claim'), transferBox: $('inbox-transfer-box'),
    transferTo: $('inbox-transfer-to'), transfer: $('inbox-transfer'), resolveBot: $('inbox-resolve-bot'),
    resolveClose: $('inbox-resolve-close'), presence: $('inbox-presence'), live: $('inbox-live'),
    announcer: $('inbox-announcer'), cannedList: $('inbox-canned-list'), cannedForm: $('inbox-canned-form')
  };
  var model = { queue: [], mine: [], agents: [], canned: [] };
  var open = null; // the conversation shown: {id, state, agent_id}
  var typingSent = false;
  var typingTimer = null;
  var visitorTypingTimer = null;

  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (content !== undefined && content !== null) { node.textContent = String(content); }
    return node;
  }
  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : '';
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  /** A JSON call; rejects with the server's error message (the console's {error:{code,message}} shape). */
  function call(method, path, body) {
    var headers = { 'Accept': 'application/json' };
    if (method !== 'GET') { headers['X-CSRF-Token'] = csrf(); }
    if (body !== undefined) { headers['Content-Type'] = 'application/json'; }
    return fetch(API + path, { method: method, credentials: 'same-origin', headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body) }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) {
          var e = data && data.error;
          var err = new Error(e && (e.message || e.code) || text('failed') + ' (' + r.status + ')');
          err.status = r.status;
          throw err;
        }
        return data;
      });
    });
  }
  function announce(message) {
    if (message) { ui.announcer.replaceChildren(el('p', null, message)); }
  }
  function fail(err) {
    ui.error.textContent = err && err.message ? err.message : text('failed');
    ui.error.hidden = false;
  }
  function idOf(c) { return c.conversation_id || c.id; }
  function when(value) {
    var d = value ? new Date(value) : null;
    return d && !isNaN(d.getTime()) ? d.toLocaleTimeString(document.documentElement.lang === 'zh' ? 'zh-CN' : 'en',
      { hour: '2-digit', minute: '2-digit' }) : '';
  }
  function visitorName(c) {
    var v = c.visitor;
    if (v && typeof v === 'object' && v.name) { return v.name; }
    if (c.visitor_name) { return c.visitor_name; }
    return text('visitor') + ' ' + String(c.visitor_id || idOf(c) || '').replace(/^v_/, '').slice(0, 8);
  }
  function agentName(agentId) {
    var found = model.agents.filter(function (a) { return a.id === agentId; })[0];
    return found ? found.name : text('agent');
  }

  // ---- the lists ----
  function load() {
    return call('GET', '').then(function (data) {
      model.queue = data.queue || [];
      model.mine = data.mine || [];
      model.agents = data.agents || [];
      model.settings = data.settings || {};
      renderLists();
      renderPresence();
    }).catch(function (err) { ui.live.textContent = text('load') + ': ' + err.message; });
  }
  function renderLists() {
    fill(ui.queue, model.queue, text('empty-queue'), true);
    fill(ui.mine, model.mine, text('empty-mine'), false);
    ui.queueCount.textContent = String(model.queue.length);
    ui.mineCount.textContent = String(model.mine.length);
    if (open) { markOpen(); }
  }
  function fill(list, items, empty, queued) {
    list.replaceChildren();
    if (!items.length) { list.appendChild(el('li', 'muted small', empty)); return; }
    items.forEach(function (c) {
      var id = idOf(c);
      var li = el('li', 'inbox-item');
      li.setAttribute('data-conversation', id);
      var pick = li.appendChild(el('button', 'inbox-open'));
      pick.type = 'button';
      pick.appendChild(el('strong', null, visitorName(c)));
      var line = c.last_message || c.preview || '';
      if (line && typeof line === 'object') { line = line.text || line.content || ''; }
      pick.appendChild(el('span', 'inbox-preview muted small', line));
      var meta = pick.appendChild(el('span', 'inbox-meta small'));
      if (queued && c.position) { meta.appendChild(el('span', 'badge warn', '#' + c.position)); }
      if (c.unread) { meta.appendChild(el('span', 'badge ok', text('new'))); }
      if (c.reason) { meta.appendChild(el('span', 'badge', c.reason)); } // button, asked, gave up, rule…
      meta.appendChild(el('span', 'muted', when(c.queued_at || c.waiting_since || c.updated_at || c.created_at)));
      pick.addEventListener('click', function () { show(id); });
      if (queued) {
        var claim = li.appendChild(el('button', 'small', text('claim')));
        claim.type = 'button';
        claim.setAttribute('data-claim', id);
        claim.setAttribute('aria-label', text('claim') + ': ' + visitorName(c));
        claim.addEventListener('click', function () { claimConversation(id); });
      }
      list.appendChild(li);
    });
  }
  function markOpen() {
    document.querySelectorAll('.inbox-item').forEach(function (li) {
      var current = open && li.getAttribute('data-conversation') === open.id;
      li.classList.toggle('current', current);
      var b = li.querySelector('.inbox-open');
      if (current) { b.setAttribute('aria-current', 'true'); } else { b.removeAttribute('aria-current'); }
    });
  }

  // ---- presence ----
  function renderPresence() {
    var mine = model.agents.filter(function (a) { return a.id === me; })[0];
    var online = !!mine && mine.presence === 'online'; // an agent is away until they say otherwise
    ui.presence.setAttribute('aria-pressed', String(online));
    ui.presence.textContent = online ? text('online') : text('away');
    ui.presence.classList.toggle('away', !online);
  }
  ui.presence.addEventListener('click', function () {
    var next = ui.presence.getAttribute('aria-pressed') === 'true' ? 'away' : 'online';
    call('POST', '/presence', { presence: next }).then(function () {
      model.agents.forEach(function (a) { if (a.id === me) { a.presence = next; } });
      if (!model.agents.some(function (a) { return a.id === me; })) { model.agents.push({ id: me, presence: next }); }
      renderPresence();
      announce(text(next));
    }).catch(fail);
  });

  // ---- one conversation ----
  function show(id) {
    ui.error.hidden = true;
    return call('GET', '/' + encodeURIComponent(id)).then(function (c) {
      if (!open || open.id !== (idOf(c) || id)) { ui.noteMode.disabled = true; } // another conversation: replies first
      var h = c.handoff || {};
      // its latest handoff: queued or assigned, or resolved back to the bot or closed (none: the bot's)
      var state = h.state === 'resolved' ? (h.resolution === 'closed' ? 'closed' : 'bot') : h.state || 'bot';
      open = { id: idOf(c) || id, state: state, agent_id: h.agent_id };
      ui.title.textContent = visitorName(c);
      ui.log.replaceChildren();
      (c.messages || c.history || []).forEach(function (m) { message(m, false); });
      ui.typing.hidden = true;
      ui.view.hidden = false;
      ui.pick.hidden = true;
      ui.grid.classList.add('viewing');
      renderState();
      markOpen();
      ui.log.scrollTop = ui.log.scrollHeight;
      ui.title.focus();
    }).catch(fail);
  }
  function renderState() {
    var mineNow = open.state === 'assigned' && open.agent_id === me;
    ui.state.textContent = text('state-' + (open.state || 'bot'));
    ui.state.className = 'badge ' + (open.state === 'queued' ? 'warn' : open.state === 'assigned' ? 'ok' : '');
    ui.claim.hidden = open.state !== 'queued';
    ui.reply.hidden = !(mineNow || open.state === 'queued');
    // a queued conversation takes notes only; replies go out once someone holds it
    // (on taking it over, replies again; while it stays held, the agent's own choice)
    ui.noteMode.checked = !mineNow || (!ui.noteMode.disabled && ui.noteMode.checked);
    ui.noteMode.disabled = !mineNow;
    noteStyle();
    ui.transferBox.hidden = ui.transfer.hidden = !mineNow;
    ui.resolveBot.hidden = ui.resolveClose.hidden = !mineNow;
    if (mineNow) { transferOptions(); }
  }
  function transferOptions() {
    ui.transferTo.replaceChildren();
    var others = model.agents.filter(function (a) { return a.id !== me; });
    if (!others.length) {
      ui.transferTo.appendChild(el('option', null, text('no-agents'))).value = '';
    }
    others.forEach(function (a) {
      var o = el('option', null, a.name + ' (' + text(a.presence === 'online' || a.presence === 'away' ? a.presence : 'gone')
        + (a.cap ? ', ' + (a.active || 0) + '/' + a.cap : '') + ')');
      o.value = a.id;
      ui.transferTo.appendChild(o);
    });
    ui.transfer.disabled = !others.length;
  }
  /** Adds a message of the history or of the live stream; each shown once (by id). */
  function message(m, live) {
    if (m.id && ui.log.querySelector('[data-id="' + CSS.escape(String(m.id)) + '"]')) { return null; }
    var role = m.role === 'user' ? 'visitor' : m.role;
    var item = el('article', 'msg inbox-msg ' + role);
    if (m.id) { item.setAttribute('data-id', m.id); }
    var meta = item.appendChild(el('div', 'meta'));
    var staff = m.agent && m.agent.name || m.agent_name || (m.agent_id ? agentName(m.agent_id) : null);
    var who = role === 'agent' ? staff || text('agent') : role === 'note' ? staff : text(role);
    if (who) { meta.appendChild(el('strong', null, who)); }
    if (role === 'note') { meta.appendChild(el('span', 'badge warn', text('note'))); }
    if (m.intent) { meta.appendChild(el('span', 'badge', m.intent)); }
    meta.appendChild(el('span', null, when(m.created_at)));
    item.appendChild(el('div', 'inbox-text', m.text != null ? m.text : m.content));
    var cites = m.citations || [];
    if (cites.length) {
      var ol = item.appendChild(el('ol', 'cites'));
      cites.forEach(function (c) {
        ol.appendChild(el('li', null, '[' + (c.n != null ? c.n : '') + '] ' + (c.title || '')
          + (c.section ? ' › ' + c.section : '')));
      });
    }
    ui.log.appendChild(item);
    if (live) {
      ui.log.scrollTop = ui.log.scrollHeight;
      if (role === 'visitor') { announce(who + ': ' + (m.text || m.content || '')); }
    }
    return item;
  }
  function back() {
    open = null;
    ui.view.hidden = true;
    ui.pick.hidden = false;
    ui.grid.classList.remove('viewing');
    markOpen();
    var first = document.querySelector('.inbox-open');
    if (first) { first.focus(); }
  }
  $('inbox-back').addEventListener('click', back);
  ui.view.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && ui.grid.classList.contains('viewing') && getComputedStyle($('inbox-back')).display !== 'none') {
      back();
    }
  });

  function claimConversation(id) {
    return call('POST', '/' + encodeURIComponent(id) + '/claim', {}).then(function () {
      return load().then(function () { return show(id); });
    }).then(function () { ui.box.focus(); }).catch(function (err) {
      fail(err);
      load();
    });
  }
  ui.claim.addEventListener('click', function () { if (open) { claimConversation(open.id); } });
  ui.transfer.addEventListener('click', function () {
    if (!open || !ui.transferTo.value) { return; }
    var id = open.id;
    call('POST', '/' + encodeURIComponent(id) + '/transfer', { agent_id: ui.transferTo.value })
      .then(function () { return load().then(function () { return show(id); }); }).catch(fail);
  });
  [[ui.resolveBot, 'bot'], [ui.resolveClose, 'closed']].forEach(function (r) {
    r[0].addEventListener('click', function () {
      if (!open) { return; }
      var id = open.id;
      call('POST', '/' + encodeURIComponent(id) + '/resolve', { mode: r[1] }).then(function () {
        announce(text('resolved'));
        return load().then(function () { return show(id); });
      }).catch(fail);
    });
  });

  // ---- replies and notes: stored before the 200, once per client_id (a retry sends the same id) ----
  function noteStyle() { ui.reply.classList.toggle('note', ui.noteMode.checked); }
  ui.noteMode.addEventListener('change', noteStyle);
  function post(path, body, attempt) {
    return call('POST', path, body).catch(function (err) {
      // a lost connection, or a node going away: the same client_id makes the retry land once
      if ((err.status === undefined || err.status >= 502) && attempt < 3) {
        return new Promise(function (resolve) { setTimeout(resolve, 500 * (attempt + 1)); })
          .then(function () { return post(path, body, attempt + 1); });
      }
      throw err;
    });
  }
  ui.reply.addEventListener('submit', function (e) {
    e.preventDefault();
    var content = ui.box.value.trim();
    if (!open || !content) { return; }
    var note = ui.noteMode.checked;
    var clientId = uuid();
    var item = message({ role: note ? 'note' : 'agent', agent_id: me, text: content, created_at: new Date().toISOString() }, true);
    item.classList.add('pending');
    item.setAttribute('data-client-id', clientId);
    ui.box.value = '';
    ui.error.hidden = true;
    stopTyping();
    post('/' + encodeURIComponent(open.id) + (note ? '/note' : '/reply'), { text: content, client_id: clientId }, 0)
      .then(function (r) {
        item.classList.remove('pending');
        var id = r && (r.id || r.message_id);
        var shown = id && ui.log.querySelector('[data-id="' + CSS.escape(String(id)) + '"]');
        if (shown && shown !== item) {
          item.remove(); // the stream delivered it first
        } else if (id) {
          item.setAttribute('data-id', id);
        }
      }).catch(function (err) {
        item.classList.remove('pending');
        item.classList.add('failed');
        ui.box.value = ui.box.value || content; // kept to send again
        fail(err);
      });
    ui.box.focus();
  });
  ui.box.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      ui.reply.requestSubmit();
    }
  });
  // typing: at most one "typing" per 3 s while keys come, "stopped" after 4 s of quiet or on send
  ui.box.addEventListener('input', function () {
    if (!open || ui.noteMode.checked || open.state !== 'assigned') { return; }
    if (!typingSent) {
      typingSent = true;
      call('POST', '/' + encodeURIComponent(open.id) + '/typing', { typing: true }).catch(function () {});
      setTimeout(function () { typingSent = false; }, 3000);
    }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, 4000);
  });
  function stopTyping() {
    if (!typingTimer) { return; }
    clearTimeout(typingTimer);
    typingTimer = null;
    typingSent = false; // after "stopped", the next key says "typing" again at once
    if (open && open.state === 'assigned') {
      call('POST', '/' + encodeURIComponent(open.id) + '/typing', { typing: false }).catch(function () {});
    }
  }

  // ---- canned replies ----
  function loadCanned() {
    return call('GET', '/canned').then(function (data) {
      model.canned = Array.isArray(data) ? data : data.canned || data.items || [];
      ui.canned.replaceChildren(ui.canned.firstElementChild);
      ui.cannedList.replaceChildren();
      model.canned.forEach(function (c) {
        var o = el('option', null, c.title || c.name || String(c.text).slice(0, 40));
        o.value = c.id;
        ui.canned.appendChild(o);
        var li = ui.cannedList.appendChild(el('li', 'inbox-canned-item'));
        li.appendChild(el('strong', null, c.title || c.name || ''));
        li.appendChild(el('span', 'muted small', c.text));
        var del = li.appendChild(el('button', 'danger small', text('delete')));
        del.type = 'button';
        del.addEventListener('click', function () {
          call('DELETE', '/canned/' + encodeURIComponent(c.id)).then(loadCanned).catch(fail);
        });
      });
    }).catch(function () { /* no canned replies: the list stays empty */ });
  }
  ui.canned.addEventListener('change', function () {
    var c = model.canned.filter(function (x) { return String(x.id) === ui.canned.value; })[0];
    if (c) {
      ui.box.value = ui.box.value ? ui.box.value.replace(/\s*$/, ' ') + c.text : c.text;
      ui.box.dispatchEvent(new Event('input'));
    }
    ui.canned.value = '';
    ui.box.focus();
  });
  ui.cannedForm.addEventListener('submit', function (e) {
    e.preventDefault();
    call('POST', '/canned', { title: $('inbox-canned-title').value.trim(), text: $('inbox-canned-text').value.trim() })
      .then(function () {
        $('inbox-canned-title').value = '';
        $('inbox-canned-text').value = '';
        return loadCanned();
      }).catch(fail);
  });

  // ---- the live stream ----
  function connect() {
    var events = new EventSource(API + '/events');
    var ever = false;
    events.onopen = function () {
      ui.live.textContent = text('live');
      root.setAttribute('data-live', 'true');
      // after a reconnect, events may have been missed: read the state again once
      if (ever) { load().then(function () { if (open) { show(open.id); } }); }
      ever = true;
    };
    events.onerror = function () {
      ui.live.textContent = text('offline');
      root.setAttribute('data-live', 'false');
    };
    var data = function (e) { try { return JSON.parse(e.data || '{}'); } catch (err) { return {}; } };
    events.addEventListener('queue', function () {
      var before = model.queue.length;
      load().then(function () { if (model.queue.length > before) { announce(text('waiting')); } });
    });
    events.addEventListener('message', function (e) {
      var m = data(e);
      if (open && m.conversation_id === open.id) {
        if (m.role === 'visitor' || m.role === 'user') { ui.typing.hidden = true; }
        // our own reply or note, back from the stream before its request answered: the one shown already
        var pendingItem = null;
        ui.log.querySelectorAll('.inbox-msg.pending.' + (m.role === 'note' ? 'note' : 'agent')).forEach(function (p) {
          if (!pendingItem && m.agent_id === me && p.querySelector('.inbox-text').textContent === m.text) { pendingItem = p; }
        });
        if (pendingItem) { pendingItem.setAttribute('data-id', m.id); pendingItem.classList.remove('pending'); return; }
        message(m, true);
      } else if (m.role === 'visitor' || m.role === 'user') {
        model.mine.concat(model.queue).forEach(function (c) {
          if (idOf(c) === m.conversation_id) { c.unread = true; c.last_message = m.text; }
        });
        renderLists();
      }
    });
    events.addEventListener('typing', function (e) {
      var t = data(e);
      if (!open || t.conversation_id !== open.id) { return; }
      clearTimeout(visitorTypingTimer);
      ui.typing.textContent = text('typing');
      ui.typing.hidden = !t.typing;
      // a lost "stopped" event must not leave the indicator up
      if (t.typing) { visitorTypingTimer = setTimeout(function () { ui.typing.hidden = true; }, 15000); }
    });
    var changed = function (e) {
      var c = data(e);
      load().then(function () {
        if (open && c.conversation_id === open.id) {
          show(open.id);
          if (e.type === 'assigned' && c.agent_id !== me) { announce(text('assigned') + ' ' + agentName(c.agent_id)); }
        }
      });
    };
    events.addEventListener('assigned', changed);
    events.addEventListener('resolved', changed);
    events.addEventListener('presence', function (e) {
      var p = data(e);
      model.agents.forEach(function (a) { if (a.id === p.agent_id) { a.presence = p.presence; } });
      renderPresence();
      if (open && open.state === 'assigned' && open.agent_id === me) { transferOptions(); }
    });
  }

  load().then(function () {
    var wanted = /^#c=(.+)$/.exec(location.hash);
    if (wanted) { show(decodeURIComponent(wanted[1])); }
  });
  loadCanned();
  connect();
})();
