'use strict';
// Scenario 15 in a real browser: every payload of xss-corpus.json, streamed to the widget as an answer
// (an FAQ answer: the same delta events and renderer as a model's answer) and uploaded as a
// knowledge-base document, leaves the live DOM of the widget and of the console inert: no script ran
// (window.__xss stays undefined), no active element or event attribute, no non-https link, and no
// request ever went to evil.example. Runs after the console scenario (which allow-lists the host page).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { env, launch, shot, log, check, login, run, hasWidgetApi, upload } = require('./lib');

const CORPUS = JSON.parse(fs.readFileSync(path.join(__dirname, 'xss-corpus.json'), 'utf8')).payloads;
const QUESTION = 'Please show the hostile corpus answer';
const ANSWER = 'Corpus answer start.\n\n' + CORPUS.join('\n\n') + '\n\nCorpus answer end.';
const DOC_TITLE = 'Hostile corpus <img src=x onerror="window.__xss=\'title\'">';

/** Findings, in page context, for the elements matched by `selector` (inside the widget when `widget`). */
function problems(page, selector, widget) {
  return page.evaluate(([sel, inWidget]) => {
    const scope = inWidget ? document.querySelector('[data-deepchat]').shadowRoot : document;
    const found = [];
    if (window.__xss !== undefined) { found.push('window.__xss = ' + window.__xss); }
    const banned = 'script,img,iframe,object,embed,svg,math,style,link,meta,base,form,frame,frameset,video,audio,source';
    for (const root of scope.querySelectorAll(sel)) {
      for (const el of [root, ...root.querySelectorAll('*')]) {
        if (el.matches(banned)) { found.push('<' + el.tagName.toLowerCase() + '> in ' + sel); }
        for (const a of el.attributes) {
          const name = a.name.toLowerCase();
          if (name.startsWith('on') || ['src', 'srcset', 'action', 'formaction', 'style'].includes(name)) {
            found.push(name + '="' + a.value + '" on <' + el.tagName.toLowerCase() + '>');
          }
        }
        // https, or the console's own pages; never javascript:, data:, vbscript: or plain http elsewhere
        if (el.tagName === 'A' && el.hasAttribute('href') && el.protocol !== 'https:' && el.origin !== location.origin) {
          found.push('link to ' + el.getAttribute('href'));
        }
      }
    }
    return found;
  }, [selector, widget]);
}

/** A page that records every request to the payloads' host. */
async function watchedPage(context, evil) {
  const page = await context.newPage();
  page.on('request', (r) => { if (r.url().includes('evil.example')) { evil.push(r.url()); } });
  return page;
}

async function checkInert(page, selector, what, evil, widget = false) {
  const found = await problems(page, selector, widget);
  check(found.length === 0, what + ' is inert' + (found.length ? ': ' + found.join(' | ') : ''));
  check(evil.length === 0, what + ': no request to evil.example ' + evil.join(' '));
}

run('xss', async () => {
  if (!(await hasWidgetApi())) {
    log('SKIPPED xss scenario: this build does not serve the widget endpoints');
    return;
  }
  const evil = [];
  const admin = await launch();
  let key;
  try {
    const page = await login(admin.context, env.workspace, env.email, env.password);
    page.on('request', (r) => { if (r.url().includes('evil.example')) { evil.push(r.url()); } });
    await page.goto(env.base + '/console/faq');
    await page.fill('form[action="/console/faq"] input[name=question]', QUESTION);
    await page.fill('form[action="/console/faq"] textarea[name=answer]', ANSWER);
    await Promise.all([page.waitForNavigation(), page.click('form[action="/console/faq"] button[type=submit]')]);
    check(page.url().includes('done=saved'), 'corpus FAQ answer saved');
    await checkInert(page, '.md', 'console FAQ list with the corpus', evil);

    // the corpus as a document: its view and a retrieval test that hits it
    await page.goto(env.base + '/console/kb');
    await Promise.all([page.waitForNavigation(), page.click('text=Demo knowledge base')]);
    const kbUrl = page.url();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'xss-')), 'hostile-corpus.md');
    fs.writeFileSync(file, '# ' + DOC_TITLE + '\n\n' + CORPUS.map((p, i) => '## Payload ' + i + '\n\n' + p).join('\n\n') + '\n');
    const state = await upload(page, file);
    if (state === 'ready') {
      await page.goto(kbUrl);
      await checkInert(page, '#documents', 'knowledge base page listing the corpus document', evil);
      const doc = page.locator('#documents a', { hasText: 'Hostile corpus' }).first();
      await Promise.all([page.waitForNavigation(), doc.click()]);
      check((await page.innerText('main')).includes('Payload 1'), 'corpus document view shows its chunks');
      await checkInert(page, '.md', 'console document view of the corpus', evil);
      await shot(page, 'xss-console-document');
      await page.goto(kbUrl);
      await page.fill('input[name=q]', 'hostile corpus payload script onerror');
      await Promise.all([page.waitForNavigation(), page.click('form[action$="/search"] button')]);
      await checkInert(page, '.md', 'console retrieval hits of the corpus', evil);
    } else {
      log('SKIPPED document checks: upload ' + state + ' (' + await page.innerText('#upload-label') + ')');
    }
    await page.goto(env.base + '/console/widget');
    key = /data-key="([^"]+)"/.exec(await page.innerText('#embed-snippet'))[1];
  } finally {
    await admin.close();
  }

  const visitor = await launch();
  try {
    const page = await watchedPage(visitor.context, evil);
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(env.host + '/?key=' + encodeURIComponent(key));
    const w = (selector) => page.locator('[data-deepchat] >> css=' + selector);
    await w('button.launcher').click();
    await page.waitForSelector('[data-deepchat][data-connected=true]', { state: 'attached' });
    for (const question of [QUESTION, 'What does the hostile corpus document say about payload script?']) {
      await w('textarea').fill(question);
      await w('textarea').press('Enter');
      await page.waitForFunction(() => {
        const send = document.querySelector('[data-deepchat]').shadowRoot.querySelector('.send');
        return send && !send.disabled;
      }, null, { timeout: 90000 });
    }
    const answers = w('.m.assistant:not(.greeting)');
    const corpusAnswer = await answers.nth(0).innerText();
    check(corpusAnswer.includes('Corpus answer start.') && corpusAnswer.includes('Corpus answer end.'),
      'the whole corpus answer arrived in the widget');
    check(corpusAnswer.includes("window.__xss='script'"), 'payloads shown as text');
    // message bodies and citations hold what the server sent; the widget's own icons (svg) live outside them
    await checkInert(page, '.m .body, .cites', 'widget answers and citations', evil, true);
    check(await page.evaluate(() => document.querySelector('[data-deepchat]').shadowRoot
      .querySelectorAll('script, img, iframe, object, embed, link').length) === 0,
    'no active or loading element anywhere in the widget');
    await shot(page, 'xss-widget');
    // history rendering (reload) goes through the same renderer: check it as well
    await page.reload();
    await page.waitForFunction(() => {
      // right after the reload the widget's async script may not have mounted its host yet
      const host = document.querySelector('[data-deepchat]');
      const root = host && host.shadowRoot;
      return root && root.querySelectorAll('.m.user').length >= 2;
    }, null, { timeout: 20000 });
    await checkInert(page, '.m .body, .cites', 'widget history after reload', evil, true);
    check(errors.length === 0, 'no script errors on the host page: ' + errors.join(' | '));
  } finally {
    await visitor.close();
  }

  const review = await launch();
  try {
    const page = await login(review.context, env.workspace, env.email, env.password);
    page.on('request', (r) => { if (r.url().includes('evil.example')) { evil.push(r.url()); } });
    await page.goto(env.base + '/console/conversations?q=' + encodeURIComponent('hostile corpus'));
    await Promise.all([page.waitForNavigation(), page.locator('table a').first().click()]);
    check((await page.innerText('main')).includes('Corpus answer end.'), 'console transcript holds the corpus answer');
    await checkInert(page, '.md', 'console transcript of the corpus answer', evil);
    await shot(page, 'xss-console-transcript');
  } finally {
    await review.close();
  }
});
