'use strict';
// Web import in the console: a whole site (served on loopback by the test, allow-listed for the node) is
// imported from its start URL, its source row shows the sync finishing with the pages it added, its pages
// become documents, and "Re-sync" runs again leaving the unchanged pages as they are.
const { env, launch, shot, check, login, run } = require('./lib');

const site = process.env.SITE_URL;

async function waitForSource(page) {
  for (let i = 0; i < 120; i++) {
    const status = await page.locator('#sources tbody tr[data-source] .badge').first().innerText();
    if (status !== 'syncing' && status !== 'pending') { return status; }
    await page.waitForTimeout(500);
    await page.reload();
  }
  return 'timeout';
}

run('web-import', async () => {
  check(Boolean(site), 'SITE_URL is set');
  const { context, close } = await launch();
  try {
    const page = await login(context, env.workspace, env.email, env.password);
    await page.goto(env.base + '/console/kb');
    await Promise.all([page.waitForNavigation(), page.click('text=Demo knowledge base')]);
    const kbUrl = page.url();

    await page.fill('#web-url', site + '/docs/');
    await page.check('#web-whole-site');
    await page.fill('#web-form input[name=max_depth]', '2');
    await page.fill('#web-form input[name=max_pages]', '10');
    await Promise.all([page.waitForNavigation(), page.click('#web-submit')]);
    check(page.url().startsWith(kbUrl), 'back on the knowledge base');
    check(await waitForSource(page) === 'ready', 'the site sync finished');
    const row = page.locator('#sources tbody tr[data-source]').first();
    check((await row.innerText()).includes(site + '/docs/'), 'the source lists its start URL');
    check((await row.innerText()).includes('3 added'), 'three pages added: ' + await row.innerText());
    check((await page.innerText('#documents')).includes('docs_returns.html'), 'a linked page became a document');
    await shot(page, 'console-web-import');

    await Promise.all([page.waitForNavigation(), row.locator('button').click()]);
    check(await waitForSource(page) === 'ready', 'the re-sync finished');
    check((await page.locator('#sources tbody tr[data-source]').first().innerText()).includes('3 unchanged'),
      'nothing changed, nothing re-indexed');
    check(page.problems.length === 0, 'no script errors or CSP violations: ' + page.problems.join(' | '));
  } finally {
    await close();
  }
});
