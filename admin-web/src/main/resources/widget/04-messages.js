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

