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
