// DeepChat console behaviour. No inline script anywhere (the CSP forbids it); everything hooks in here.
(function () {
  'use strict';

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : '';
  }

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
})();
