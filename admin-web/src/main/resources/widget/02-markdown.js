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

