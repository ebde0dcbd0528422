'use strict';
// The widget on a customer's site (another origin, hostile CSS): a visitor asks, the answer streams in,
// the conversation survives a reload, a hostile answer renders inert, and (with retrieval and a model)
// a knowledge-base answer carries an expandable citation. Phone width and keyboard use included.
const { env, launch, shot, log, check, login, run, hasWidgetApi } = require('./lib');

const HOURS_Q = 'What are your opening hours?';
const HOURS_A = 'We are open **9 to 5**, Monday to Friday.\n\n- Saturday: 10 to 2\n- Sunday: closed\n\n'
  + 'Details: [opening hours](https://example.com/hours)';
const XSS_Q = 'Show me the security test answer';
const SHOP_Q = 'Where is your shop?';
const SHOP_A = 'At **Main Street 1**, next to the station.';
const XSS_A = 'Inert: <img src=x onerror="window.__xss=1"> <script>window.__xss=2</script> '
  + '[click](javascript:window.__xss=3) ![pixel](https://evil.example/p.png) done.';

async function addFaq(page, question, answer) {
  await page.goto(env.base + '/console/faq');
  await page.fill('form[action="/console/faq"] input[name=question]', question);
  await page.fill('form[action="/console/faq"] textarea[name=answer]', answer);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/console/faq"] button[type=submit]')]);
  check(page.url().includes('done=saved'), 'FAQ entry saved: ' + question);
}

/** The widget's shadow root parts, through Playwright's shadow-piercing CSS engine. */
function w(page, selector) { return page.locator('[data-deepchat] >> css=' + selector); }

async function ask(page, question, frames) {
  await w(page, 'textarea').fill(question);
  await w(page, 'textarea').press('Enter');
  const before = frames.deltas;
  await page.waitForFunction(() => {
    const host = document.querySelector('[data-deepchat]');
    return host && host.shadowRoot.querySelector('.send') && !host.shadowRoot.querySelector('.send').disabled;
  }, null, { timeout: 90000 });
  return frames.deltas - before;
}

/** Whether the console scenario left a default knowledge base with a ready document. */
async function hasKnowledge() {
  const admin = await launch();
  try {
    const page = await login(admin.context, env.workspace, env.email, env.password);
    await page.goto(env.base + '/console/kb');
    const link = page.locator('text=Demo knowledge base');
    if (await link.count() === 0) { return false; }
    await Promise.all([page.waitForNavigation(), link.click()]);
    const main = await page.innerText('main');
    return main.includes('Answers use this knowledge base') && /\bready\b/.test(main);
  } finally {
    await admin.close();
  }
}

run('widget', async () => {
  if (!(await hasWidgetApi())) {
    log('SKIPPED widget scenario: this build does not serve the widget endpoints (/widget/config, /widget/ws: chat pipeline)');
    return;
  }
  const admin = await launch();
  let key;
  try {
    const page = await login(admin.context, env.workspace, env.email, env.password);
    await addFaq(page, HOURS_Q, HOURS_A);
    await addFaq(page, XSS_Q, XSS_A);
    await addFaq(page, SHOP_Q, SHOP_A);
    await page.goto(env.base + '/console/widget');
    key = /data-key="([^"]+)"/.exec(await page.innerText('#embed-snippet'))[1];
    const origins = await page.inputValue('textarea[name=allowed_origins]');
    check(origins.includes(env.host), 'host page origin is allow-listed (set by the console scenario)');
  } finally {
    await admin.close();
  }

  const visitor = await launch();
  try {
    const page = await visitor.context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const frames = { deltas: 0, done: 0 };
    page.on('websocket', (ws) => ws.on('framereceived', (f) => {
      const text = String(f.payload);
      if (text.includes('"delta"')) { frames.deltas++; }
      if (text.includes('"done"')) { frames.done++; }
    }));
    await page.goto(env.host + '/?key=' + encodeURIComponent(key));
    const launcher = w(page, 'button.launcher');
    await launcher.waitFor();
    check(await launcher.isVisible(), 'launcher visible despite the host page hiding every button');
    check(await launcher.getAttribute('aria-expanded') === 'false', 'launcher announces a closed panel');
    await shot(page, 'widget-closed');

    // keyboard: focus the launcher, open with Enter, type, Escape closes and returns focus
    await launcher.focus();
    await page.keyboard.press('Enter');
    await w(page, '.panel').waitFor();
    check(await launcher.getAttribute('aria-expanded') === 'true', 'panel opened from the keyboard');
    await page.waitForSelector('[data-deepchat][data-connected=true]', { state: 'attached' });
    check(await page.evaluate(() => document.querySelector('[data-deepchat]').shadowRoot.activeElement.id) === 'dc-input',
      'focus moves to the message box');
    const fontFamily = await w(page, '.m.greeting').evaluate((el) => getComputedStyle(el).fontFamily);
    check(!/^serif/.test(fontFamily), 'host CSS does not reach into the widget (font ' + fontFamily + ')');

    const deltas = await ask(page, HOURS_Q, frames);
    const answer = w(page, '.m.assistant:not(.greeting)').last();
    check((await answer.innerText()).includes('9 to 5'), 'FAQ answer shown');
    check(deltas >= 1 && frames.done >= 1, 'answer arrived as streamed events over the WebSocket (' + deltas + ' deltas)');
    check(await answer.locator('strong').count() === 1, 'Markdown bold rendered');
    check(await answer.locator('li').count() === 2, 'Markdown list rendered');
    const link = answer.locator('a');
    check(await link.getAttribute('href') === 'https://example.com/hours', 'https link kept');
    check((await link.getAttribute('rel')).includes('noopener'), 'link opens without opener');
    check(await answer.locator('.fb button').count() === 2, 'feedback buttons offered');
    await answer.locator('.fb button').first().click();
    await page.waitForFunction(() => {
      const b = document.querySelector('[data-deepchat]').shadowRoot.querySelectorAll('.fb button')[0];
      return b && b.getAttribute('aria-pressed') === 'true';
    });
    check(true, 'thumbs up recorded');
    // an optional comment on the rated answer, sent with the same thumb
    await answer.locator('.note input').fill('Clear and quick');
    await answer.locator('.note button').click();
    await answer.locator('.note[role=status]').waitFor();
    check(true, 'comment on the answer recorded');
    await shot(page, 'widget-answer');

    // hostile answer: nothing runs, nothing loads
    await ask(page, XSS_Q, frames);
    const inert = w(page, '.m.assistant:not(.greeting)').last();
    check((await inert.innerText()).includes('Inert:'), 'hostile FAQ answer displayed as text');
    check(await page.evaluate(() => window.__xss) === undefined, 'no script from the answer ran');
    check(await page.evaluate(() => document.querySelector('[data-deepchat]').shadowRoot.querySelectorAll('img, script, iframe').length) === 0,
      'no img, script or iframe element in the widget');
    check(await inert.locator('a').count() === 0, 'javascript: link not turned into a link');
    await shot(page, 'widget-xss-inert');

    // reload: the same conversation comes back from /widget/history
    await page.reload();
    await w(page, '.panel').waitFor();
    await page.waitForFunction(() => {
      const root = document.querySelector('[data-deepchat]').shadowRoot;
      return root.querySelectorAll('.m.user').length >= 2;
    }, null, { timeout: 20000 });
    const transcript = await w(page, '.log').innerText();
    check(transcript.includes(HOURS_Q) && transcript.includes('9 to 5') && transcript.includes(XSS_Q), 'conversation kept across reload');
    check(await page.evaluate(() => window.__xss) === undefined, 'history rendering is inert too');

    await w(page, 'textarea').focus();
    // a knowledge-base answer (when the console scenario could upload: RAG wired) carries its citation
    if (await hasKnowledge()) {
      const before = frames.deltas;
      await ask(page, 'How many days do I have to return an item?', frames);
      const kbAnswer = w(page, '.m.assistant:not(.greeting)').last();
      const cites = kbAnswer.locator('details.cites');
      check(await cites.count() === 1, 'knowledge answer carries citations');
      await cites.locator('summary').click();
      check(await cites.getAttribute('open') !== null, 'citations expand');
      check((await cites.innerText()).includes('Returns policy'), 'citation names the uploaded document');
      const failed = await w(page, '.m.error').count();
      if (failed === 0) {
        check(frames.deltas - before > 1, 'generated answer streamed in ' + (frames.deltas - before) + ' deltas');
      } else {
        log('SKIPPED streaming check of the generated answer: no model answered on this node ('
          + (await w(page, '.m.error').last().innerText()) + ')');
      }
      await shot(page, 'widget-citation');
    } else {
      log('SKIPPED knowledge-base answer: no ready knowledge base (RAG not wired into this build)');
    }

    await w(page, 'textarea').focus();
    await page.keyboard.press('Escape');
    check(await launcher.getAttribute('aria-expanded') === 'false', 'Escape closes the panel');
    check(await page.evaluate(() => document.querySelector('[data-deepchat]').shadowRoot.activeElement.className) === 'launcher',
      'focus returns to the launcher');

    // phone width: the panel takes the screen
    await page.setViewportSize({ width: 375, height: 700 });
    await launcher.click();
    const box = await w(page, '.panel').boundingBox();
    check(box && box.width >= 370, 'panel fills a phone screen (' + (box && box.width) + ' px)');
    await shot(page, 'widget-phone');
    check(errors.length === 0, 'no script errors on the host page: ' + errors.join(' | '));
  } finally {
    await visitor.close();
  }

  // where WebSockets are unavailable (old proxies), the same turn runs over server-sent events
  const sse = await launch();
  try {
    const page = await sse.context.newPage();
    await page.addInitScript(() => { window.WebSocket = undefined; });
    let sseRequests = 0;
    page.on('request', (r) => { if (r.url().endsWith('/widget/chat')) { sseRequests++; } });
    // a slow session answer: the question typed meanwhile waits for the visitor token (it went out without
    // one, and was refused with 401, before the widget kept one session request in flight)
    await page.route('**/widget/session', async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await route.continue();
    });
    await page.goto(env.host + '/?key=' + encodeURIComponent(key));
    await w(page, 'button.launcher').click();
    await ask(page, HOURS_Q, { deltas: 0 });
    const answer = w(page, '.m.assistant:not(.greeting)').last();
    check((await answer.innerText()).includes('9 to 5'), 'answer arrives over the SSE fallback');
    check(sseRequests === 1, 'one POST /widget/chat carried the turn');
    await shot(page, 'widget-sse');
  } finally {
    await sse.close();
  }

  // the socket drops right after a question is sent: the widget retries that turn over SSE with the same
  // clientMessageId (stored once) and reconnects the socket with backoff
  const flaky = await launch();
  try {
    const page = await flaky.context.newPage();
    let connections = 0;
    let dropped = false;
    await page.routeWebSocket(/\/widget\/ws/, (ws) => {
      connections++;
      const server = ws.connectToServer();
      ws.onMessage((message) => {
        if (!dropped && String(message).includes('"type":"message"')) {
          dropped = true;
          ws.close({ code: 1006, reason: 'network' });
          return;
        }
        server.send(message);
      });
      server.onMessage((message) => ws.send(message));
    });
    await page.goto(env.host + '/?key=' + encodeURIComponent(key));
    await w(page, 'button.launcher').click();
    await page.waitForSelector('[data-deepchat][data-connected=true]', { state: 'attached' });
    await ask(page, SHOP_Q, { deltas: 0 });
    check(dropped, 'the socket was cut after the question went out');
    const answers = w(page, '.m.assistant:not(.greeting)');
    check((await answers.last().innerText()).includes('Main Street 1'), 'the turn completed over the SSE retry');
    check(await answers.count() === 1, 'the answer appears once');
    await page.waitForSelector('[data-deepchat][data-connected=true]', { state: 'attached', timeout: 15000 });
    check(connections >= 2, 'the socket reconnected (' + connections + ' connections)');
    await ask(page, HOURS_Q, { deltas: 0 });
    check((await answers.last().innerText()).includes('9 to 5'), 'the next question works on the new socket');
  } finally {
    await flaky.close();
  }

  // the console shows the visitor's conversation: intents, feedback, the overview's numbers
  const review = await launch();
  try {
    const page = await login(review.context, env.workspace, env.email, env.password);
    check(Number(await page.locator('.stat .value').first().innerText()) >= 1, 'overview counts the conversation');
    await shot(page, 'console-overview-data');
    await page.goto(env.base + '/console/conversations?q=' + encodeURIComponent('security test answer'));
    await Promise.all([page.waitForNavigation(), page.locator('table a').first().click()]);
    const transcript = await page.innerText('main');
    check(transcript.includes(HOURS_Q) && transcript.includes('9 to 5'), 'transcript found by search');
    check(/intent: faq/.test(transcript), 'transcript shows the intent');
    check(transcript.includes('helpful'), 'transcript shows the feedback');
    check(transcript.includes('Clear and quick'), 'transcript shows the comment on the answer');
    check(await page.locator('main img, main script').count() === 0, 'hostile answer inert in the console too');
    await shot(page, 'console-conversation');
  } finally {
    await review.close();
  }
});
