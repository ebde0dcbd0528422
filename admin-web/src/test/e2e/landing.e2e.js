'use strict';
// The node's front page (issue #22 items 2 and 8): what the node is, and the demo tenant's own widget
// live on it, answering; a page on an origin the widget does not allow gets a clear message in the
// browser console, the console's Widget page lists that origin, and one click allows it. axe-core on
// the page and on the open widget (its shadow root), zero violations.
const { env, launch, shot, log, check, login, run } = require('./lib');
const { axe } = require('./a11y');

const QUESTION = 'How can I contact customer support?';

function w(page, selector) { return page.locator('[data-deepchat] >> css=' + selector); }

run('landing', async () => {
  const visitor = await launch();
  try {
    const page = await visitor.context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('console', (m) => { if (/Content Security Policy|Refused to|DeepChat widget/.test(m.text())) { problems.push(m.text()); } });
    await page.goto(env.base + '/');
    check(/DeepChat is running/.test(await page.innerText('h1')), 'the front page says what the node is');
    check(/Version/.test(await page.innerText('main')), 'the front page shows the version');
    check(await page.locator('a[href="/console/"]').count() > 0, 'the front page links to the console');
    await page.waitForSelector('[data-deepchat]', { state: 'attached' });
    await axe(page, 'the front page');

    await w(page, '.launcher').click();
    await w(page, 'textarea').fill(QUESTION);
    await w(page, 'textarea').press('Enter');
    await page.waitForFunction(() => {
      const root = document.querySelector('[data-deepchat]').shadowRoot;
      const answers = root.querySelectorAll('.m.assistant:not(.greeting)');
      return answers.length > 0 && !root.querySelector('.send').disabled;
    }, null, { timeout: 90000 });
    const answer = await w(page, '.m.assistant:not(.greeting) .body').last().innerText();
    check(/support@demo\.example/.test(answer), 'the demo widget on the front page answers from the demo FAQ');
    await shot(page, 'landing-widget');
    await axe(page, 'the front page with the widget open and an answer');
    check(problems.length === 0, 'no script errors, CSP refusals or widget warnings: ' + problems.join(' | '));
  } finally {
    await visitor.close();
  }

  // A page on an origin the demo widget does not allow. The page itself is served by Playwright (no
  // request leaves the browser for it); *.localhost is loopback by definition.
  const refusedOrigin = 'http://refused-' + Date.now().toString(36) + '.localhost:8081';
  const key = await (async () => {
    const r = await fetch(env.base + '/', { headers: { 'Accept-Language': 'en' } });
    return /data-key="([^"]+)"/.exec(await r.text())[1];
  })();
  const stranger = await launch();
  try {
    const page = await stranger.context.newPage();
    const messages = [];
    page.on('console', (m) => messages.push(m.text()));
    await page.route(refusedOrigin + '/**', (route) => route.fulfill({ contentType: 'text/html',
      body: '<!doctype html><html lang="en"><head><title>Shop</title></head><body><h1>Shop</h1>'
        + '<script src="' + env.base + '/widget.js" data-key="' + key + '" async></script></body></html>' }));
    await page.goto(refusedOrigin + '/');
    const deadline = Date.now() + 15000;
    while (!messages.some((m) => m.includes('DeepChat widget: not shown')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const said = messages.find((m) => m.includes('DeepChat widget: not shown')) || '';
    log('browser console: ' + said);
    check(said.includes(refusedOrigin) && said.includes('Widget page'),
      'the widget tells the page why it is not shown, naming the origin and where to allow it');
    check(await page.locator('[data-deepchat]').count() === 0, 'the widget does not appear on a refused origin');
  } finally {
    await stranger.close();
  }

  const admin = await launch();
  try {
    const page = await login(admin.context, env.workspace, env.email, env.password);
    const deadline = Date.now() + 20000;
    let listed = false;
    while (!listed && Date.now() < deadline) {
      await page.goto(env.base + '/console/widget');
      listed = await page.locator('#refused-origins code', { hasText: refusedOrigin }).count() > 0;
      if (!listed) { await new Promise((r) => setTimeout(r, 500)); }
    }
    check(listed, 'the Widget page lists the refused origin');
    await shot(page, 'console-widget-refused');
    const form = page.locator('#refused-origins form', { has: page.locator('input[value="' + refusedOrigin + '"]') });
    await Promise.all([page.waitForNavigation(), form.locator('button').click()]);
    check(page.url().includes('done=originAllowed'), 'one click allows it');
    check((await page.inputValue('textarea[name=allowed_origins]')).includes(refusedOrigin),
      'the origin is now in the allowed origins');
    check(await page.locator('#refused-origins code', { hasText: refusedOrigin }).count() === 0,
      'and no longer in the refused list');
    check(page.problems.length === 0, 'no console page problems: ' + page.problems.join(' | '));
  } finally {
    await admin.close();
  }

  const welcomed = await launch();
  try {
    const page = await welcomed.context.newPage();
    await page.route(refusedOrigin + '/**', (route) => route.fulfill({ contentType: 'text/html',
      body: '<!doctype html><html lang="en"><head><title>Shop</title></head><body><h1>Shop</h1>'
        + '<script src="' + env.base + '/widget.js" data-key="' + key + '" async></script></body></html>' }));
    await page.goto(refusedOrigin + '/');
    await page.waitForSelector('[data-deepchat]', { state: 'attached' });
    check(true, 'once allowed, the widget appears on that origin');
  } finally {
    await welcomed.close();
  }
});
