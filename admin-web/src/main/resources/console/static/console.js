// DeepChat console behaviour. No inline script anywhere (the CSP forbids it); everything hooks in here.
(function () {
  'use strict';

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : '';
  }

  // A table wider than its box scrolls inside it: the box takes keyboard focus (arrow keys scroll it) and
  // is named by its card's heading, so keyboard and screen-reader users reach every column.
  function focusableScrollers() {
    document.querySelectorAll('.table-wrap, .card').forEach(function (box) {
      var wide = box.scrollWidth > box.clientWidth + 1;
      if (wide && !box.hasAttribute('tabindex')) {
        box.setAttribute('tabindex', '0');
        box.setAttribute('data-scroll-focus', '');
        if (!box.hasAttribute('role')) {
          var heading = box.closest('.card') && box.closest('.card').querySelector('h2, h1');
          box.setAttribute('role', 'region');
          box.setAttribute('aria-label', heading ? heading.textContent.trim() : document.title);
        }
      }
    });
  }
  focusableScrollers();
  window.addEventListener('resize', focusableScrollers);

  // Confirmation for destructive forms.
  document.addEventListener('submit', function (e) {
    var form = e.target;
    var question = form.getAttribute && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) {
      e.preventDefault();
    }
  });

  // Copy buttons: data-copy names the element whose text is copied.
  document.querySelectorAll('[data-copy]').forEach(function (button) {
    button.addEventListener('click', function () {
      var source = document.getElementById(button.getAttribute('data-copy'));
      if (!source || !navigator.clipboard) { return; }
      navigator.clipboard.writeText(source.textContent).then(function () {
        var label = button.textContent;
        button.textContent = button.getAttribute('data-copied') || label;
        setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
  });

  // Widget preview follows the colour and position inputs.
  var preview = document.getElementById('widget-preview');
  if (preview) {
    var colour = document.getElementById('widget-color');
    var position = document.getElementById('widget-position');
    var paint = function (value) {
      if (!/^#[0-9a-fA-F]{6}$/.test(value)) { return; }
      preview.querySelector('.bubble').style.background = value;
      preview.querySelector('.head').style.background = value;
      // as the widget does: white text only where it reaches 4.5:1 on the colour
      var rgb = [1, 3, 5].map(function (at) {
        var c = parseInt(value.substr(at, 2), 16) / 255;
        return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
      });
      var light = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
      preview.querySelector('.head').style.color = 1.05 / (light + 0.05) >= 4.5 ? '#fff' : '#111827';
    };
    paint(preview.getAttribute('data-color'));
    if (colour) { colour.addEventListener('input', function () { paint(colour.value); }); }
    if (position) {
      position.addEventListener('change', function () {
        preview.classList.toggle('left', position.value === 'left');
        preview.classList.toggle('right', position.value !== 'left');
      });
    }
  }

  // Upload with progress: bytes sent (XHR upload progress), then ingestion progress (polling).
  var form = document.getElementById('upload-form');
  if (form) {
    var input = document.getElementById('upload-file');
    var button = document.getElementById('upload-button');
    var status = document.getElementById('upload-status');
    var label = document.getElementById('upload-label');
    var bar = document.getElementById('upload-progress');

    var show = function (text, fraction) {
      status.hidden = false;
      label.textContent = text;
      var percent = Math.max(0, Math.min(100, Math.round(fraction * 100)));
      bar.setAttribute('aria-valuenow', String(percent));
      bar.firstElementChild.style.width = percent + '%';
    };

    var poll = function (documentId, name) {
      var xhr = new XMLHttpRequest();
      xhr.open('GET', form.getAttribute('data-status'));
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.onload = function () {
        var doc = null;
        try {
          JSON.parse(xhr.responseText).documents.forEach(function (d) { if (d.id === documentId) { doc = d; } });
        } catch (ignored) { doc = null; }
        if (!doc) { setTimeout(function () { poll(documentId, name); }, 800); return; }
        if (doc.status === 'ready') {
          show(name + ': ' + form.getAttribute('data-done') + ' (' + doc.chunks + ')', 1);
          form.setAttribute('data-state', 'ready');
          button.disabled = false;
          setTimeout(function () { window.location.reload(); }, 1200);
        } else if (doc.status === 'failed') {
          show(name + ': ' + form.getAttribute('data-failed') + (doc.error ? ' - ' + doc.error : ''), 0);
          form.setAttribute('data-state', 'failed');
          button.disabled = false;
        } else {
          show(name + ': ' + form.getAttribute('data-ingesting') + ' ' + Math.round((doc.progress || 0) * 100) + '%',
            doc.progress || 0);
          setTimeout(function () { poll(documentId, name); }, 500);
        }
      };
      xhr.onerror = function () { setTimeout(function () { poll(documentId, name); }, 2000); };
      xhr.send();
    };

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (!input.files || input.files.length !== 1) { return; }
      var file = input.files[0];
      var data = new FormData();
      data.append('file', file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open('POST', form.getAttribute('data-upload'));
      xhr.setRequestHeader('X-CSRF-Token', csrfToken());
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.upload.onprogress = function (ev) {
        if (ev.lengthComputable) { show(file.name + ': ' + Math.round(100 * ev.loaded / ev.total) + '%', ev.loaded / ev.total); }
      };
      xhr.onload = function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (ignored) { body = {}; }
        if (xhr.status === 200 && body.documentId) {
          form.setAttribute('data-state', 'ingesting');
          show(file.name + ': ' + form.getAttribute('data-ingesting'), 0);
          poll(body.documentId, file.name);
        } else {
          show(file.name + ': ' + form.getAttribute('data-failed') + (body.error ? ' - ' + body.error : ' (' + xhr.status + ')'), 0);
          form.setAttribute('data-state', 'failed');
          button.disabled = false;
        }
      };
      xhr.onerror = function () {
        show(file.name + ': ' + form.getAttribute('data-failed'), 0);
        button.disabled = false;
      };
      button.disabled = true;
      form.setAttribute('data-state', 'uploading');
      show(file.name + ': 0%', 0);
      xhr.send(data);
    });
  }

  // Playground: one message at a time through the real pipeline; each answer's trace in the side panel.
  // Everything the server sends is shown as text (textContent), never parsed as HTML.
  var playground = document.getElementById('playground-form');
  if (playground) {
    var log = document.getElementById('playground-log');
    var panel = document.getElementById('trace-panel');
    var messageBox = document.getElementById('playground-message');
    var conversationField = document.getElementById('playground-conversation');
    var send = document.getElementById('playground-send');

    var el = function (tag, className, text) {
      var node = document.createElement(tag);
      if (className) { node.className = className; }
      if (text !== undefined && text !== null) { node.textContent = String(text); }
      return node;
    };
    var num = function (v) { return typeof v === 'number' ? (Math.round(v * 1000) / 1000).toString() : String(v); };
    var pairs = function (list) {
      var dl = el('dl', 'trace-pairs');
      list.forEach(function (p) {
        if (p[1] === undefined || p[1] === null || p[1] === '') { return; }
        dl.appendChild(el('dt', null, p[0]));
        dl.appendChild(el('dd', null, p[1]));
      });
      return dl;
    };
    var table = function (head, rows) {
      var t = el('table', 'trace-table');
      var tr = el('tr');
      head.forEach(function (h) { tr.appendChild(el('th', null, h)); });
      t.appendChild(el('thead')).appendChild(tr);
      var body = t.appendChild(el('tbody'));
      rows.forEach(function (r) {
        var row = el('tr');
        r.forEach(function (c) { row.appendChild(el('td', null, c)); });
        body.appendChild(row);
      });
      return t;
    };
    var label = function (name) { return panel.getAttribute('data-' + name); };

    var showTrace = function (trace) {
      panel.replaceChildren(el('h2', null, panel.querySelector('h2').textContent));
      if (!trace) { return; }
      var section = function (name, content) {
        var s = el('section', 'trace-section');
        s.setAttribute('data-trace', name);
        s.appendChild(el('h3', null, label(name)));
        s.appendChild(content);
        panel.appendChild(s);
      };
      var r = trace.routing || {};
      section('routing', pairs([['intent', r.intent], ['score', num(r.score)],
        ['threshold', r.threshold === null || r.threshold === undefined ? null : num(r.threshold)],
        ['answered from', r.answered_from]].concat(Object.keys(r.scores || {}).map(function (k) {
          return ['score: ' + k, num(r.scores[k])];
        }))));
      var faqs = trace.faq_candidates || [];
      section('faq', faqs.length ? table(['faq', 'score', 'matched'], faqs.map(function (f) {
        return [f.faq_id, num(f.score), f.matched ? '✓' : ''];
      })) : el('p', 'muted', label('none')));
      var hits = trace.retrieval && trace.retrieval.hits ? trace.retrieval.hits : [];
      section('retrieval', hits.length ? table(['#', 'document', 'lexical', 'vector', 'fused', 'cited'],
        hits.map(function (h) {
          return [h.rank, h.document_title + (h.section_path ? ' › ' + h.section_path : ''), num(h.lexical_score),
            num(h.vector_score), num(h.fused_score), h.cited ? '✓' : ''];
        })) : el('p', 'muted', label('none')));
      var tr = trace.translation;
      if (tr) {
        section('translation', pairs([['status', tr.status + (tr.cached ? ' (cached)' : '')], ['text', tr.text],
          ['ms', num(tr.ms)], ['why', tr.detail]]));
      }
      var m = trace.model;
      section('model', m ? pairs([['name', m.name], ['arm', m.arm], ['why', m.reason],
        ['test model', m.test_model ? 'yes' : null]]) : el('p', 'muted', label('none')));
      var mod = trace.moderation || {};
      section('moderation', pairs([['input', mod.input + (mod.input_words && mod.input_words.length ? ': ' + mod.input_words.join(', ') : '')],
        ['output', mod.output + (mod.output_words && mod.output_words.length ? ': ' + mod.output_words.join(', ') : '')]]));
      var tok = trace.tokens || {};
      section('tokens', pairs([['prompt', tok.prompt_tokens], ['completion', tok.completion_tokens]]));
      var lat = trace.latency || {};
      var parts = el('div', 'latency');
      ['queue_ms', 'routing_ms', 'retrieval_ms', 'first_token_ms', 'generation_ms', 'total_ms'].forEach(function (k) {
        var row = el('div', 'latency-row');
        row.appendChild(el('span', null, k.replace('_ms', '').replace('_', ' ')));
        var bar = el('span', 'latency-bar');
        var fill = el('span');
        fill.style.width = (lat.total_ms > 0 ? Math.min(100, 100 * (lat[k] || 0) / lat.total_ms) : 0) + '%';
        bar.appendChild(fill);
        row.appendChild(bar);
        row.appendChild(el('span', 'mono', num(lat[k] || 0)));
        parts.appendChild(row);
      });
      section('latency', parts);
    };

    var bubble = function (role, text) {
      var empty = document.getElementById('playground-empty');
      if (empty) { empty.remove(); }
      var msg = el('article', 'msg ' + role);
      msg.appendChild(el('div', 'playground-text', text));
      log.appendChild(msg);
      msg.scrollIntoView({ block: 'end' });
      return msg;
    };

    document.getElementById('playground-new').addEventListener('click', function () {
      conversationField.value = '';
      log.replaceChildren();
      showTrace(null);
      messageBox.focus();
    });

    playground.addEventListener('submit', function (e) {
      e.preventDefault();
      var text = messageBox.value.trim();
      if (!text) { return; }
      bubble('user', text);
      var pending = bubble('assistant', playground.getAttribute('data-thinking'));
      pending.classList.add('pending');
      messageBox.value = '';
      send.disabled = true;
      fetch(playground.getAttribute('action'), {
        method: 'POST', credentials: 'same-origin',
        body: JSON.stringify({ message: text, conversation: conversationField.value }),
        headers: { 'X-CSRF-Token': csrfToken(), 'Accept': 'application/json', 'Content-Type': 'application/json' }
      }).then(function (resp) {
        return resp.json().catch(function () { return { error: { message: String(resp.status) } }; });
      }).then(function (answer) {
        pending.classList.remove('pending');
        pending.replaceChildren();
        if (answer.error) {
          pending.classList.add('failed');
          pending.appendChild(el('div', 'playground-text', playground.getAttribute('data-failed') + ': '
            + (answer.error.message || answer.error.code)));
          return;
        }
        conversationField.value = answer.conversationId;
        pending.setAttribute('data-message-id', answer.messageId);
        var meta = el('div', 'meta');
        meta.appendChild(el('span', 'badge', answer.intent));
        meta.appendChild(el('span', null, answer.model));
        pending.appendChild(meta);
        pending.appendChild(el('div', 'playground-text', answer.content));
        if (answer.citations && answer.citations.length) {
          var cites = el('ol', 'cites');
          answer.citations.forEach(function (c) {
            cites.appendChild(el('li', null, '[' + c.n + '] ' + c.title + (c.section ? ' › ' + c.section : '')));
          });
          pending.appendChild(cites);
        }
        pending.addEventListener('click', function () { showTrace(answer.trace); });
        showTrace(answer.trace);
      }).catch(function () {
        pending.classList.remove('pending');
        pending.classList.add('failed');
        pending.replaceChildren(el('div', 'playground-text', playground.getAttribute('data-failed')));
      }).then(function () {
        send.disabled = false;
        messageBox.focus();
      });
    });

    messageBox.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey) {
        e.preventDefault();
        playground.requestSubmit();
      }
    });
  }
})();
