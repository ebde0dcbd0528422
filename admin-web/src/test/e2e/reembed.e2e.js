'use strict';
// Re-embedding in the console (issue #16 item 4): a new knowledge base with a document, re-embedded into
// the English model from its page; the page shows the state until it has switched, and search still answers.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { env, launch, shot, check, login, run, upload } = require('./lib');

run('reembed', async () => {
  const { context, close } = await launch();
  try {
    const page = await login(context, env.workspace, env.email, env.password);
    await page.goto(env.base + '/console/kb');
    await page.fill('form[action="/console/kb"] input[name=name]', 'Re-embedding demo');
    await Promise.all([page.waitForNavigation(), page.click('form[action="/console/kb"] button[type=submit]')]);
    const kbUrl = page.url().split('?')[0];
    check(/\/console\/kb\/[0-9a-f-]{36}$/.test(kbUrl), 'knowledge base created: ' + kbUrl);

    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'reembed-')), 'returns.md');
    fs.writeFileSync(file, '# Returns\n\n## Refunds\n\nUnopened items are refunded in full within 30 days of delivery.\n\n'
      + '## Exchanges\n\nA faulty item is exchanged for the same model, shipping paid by us.\n');
    check(await upload(page, file) === 'ready', 'document ingested');
    await page.waitForNavigation({ timeout: 10000 }).catch(() => {}); // the page reloads after an upload
    await page.goto(kbUrl);

    await page.selectOption('#reembed-model', 'bge-small-en-v1.5-q');
    await Promise.all([page.waitForNavigation(), page.click('#reembed-start')]);
    check((await page.innerText('#reembed-state')).includes('bge-small-en-v1.5-q'), 'the re-embedding is shown');
    for (let i = 0; i < 120 && await page.locator('#reembed-state .badge.running').count() > 0; i++) {
      await page.waitForTimeout(500);
      await page.goto(kbUrl);
    }
    check(await page.locator('#reembed-state .badge.done').count() === 1, 'switched: '
      + await page.innerText('#reembed-state'));
    check((await page.innerText('.topbar')).includes('bge-small-en-v1.5-q'), 'the knowledge base uses the new model');
    await shot(page, 'console-reembed');

    await page.goto(kbUrl + '/search?q=' + encodeURIComponent('Can I get my money back?'));
    check((await page.innerText('#hits')).includes('Refunds'), 'search answers from the new model');
    check(page.problems.length === 0, 'no script errors or CSP violations: ' + page.problems.join(' | '));
  } finally {
    await close();
  }
});
