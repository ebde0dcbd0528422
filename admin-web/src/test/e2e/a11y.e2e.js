'use strict';
// Accessibility of the console (issue #22 item 8): axe-core (WCAG 2.2 AA) on every page of the
// navigation, the sign-in page and the 404 page, each at phone width where it must also fit 390 px
// without sideways scrolling of the page; a skip link first in the Tab order; the current page
// announced with aria-current; the overview's charts with their figures for screen readers.
const { env, launch, log, check, login, run, shot } = require('./lib');
const { axe } = require('./a11y');

/** The href of the first link matching selector on path, or null. */
async function firstLink(page, path, selector) {
  await page.goto(env.base + path);
  const link = page.locator(selector).first();
  return (await link.count()) ? link.getAttribute('href') : null;
}

/** Adds the first link matching selector on path to the pages to check, when there is one. */
async function optional(pages, page, path, selector) {
  const href = await firstLink(page, path, selector);
  if (href) { pages.push(href); } else { log('no link ' + selector + ' on ' + path + ' to check'); }
}

run('a11y', async () => {
  const browser = await launch({ viewport: { width: 390, height: 844 } });
  try {
    const anonymous = await browser.context.newPage();
    await anonymous.goto(env.base + '/console/login');
    await axe(anonymous, '/console/login at 390 px');
    await anonymous.close();

    const page = await login(browser.context, env.workspace, env.email, env.password);
    const paths = await page.evaluate(() => Array.from(document.querySelectorAll('nav.side a[href^="/console/"]'))
      .map((a) => a.getAttribute('href')).filter((h) => !h.startsWith('/console/lang/')));
    const kb = await firstLink(page, '/console/kb', 'main a[href^="/console/kb/"]');
    const all = Array.from(new Set(paths.concat(kb ? [kb] : []).concat(['/console/no-such-page'])));
    check(all.length >= 12, 'the navigation lists the console pages (' + all.length + ')');
    // the pages behind the navigation, with whatever data the scenarios before this one left
    // (a fresh node has the demo knowledge base and its documents; a dataset is added here when none is)
    if (kb) {
      all.push(kb + '/search?q=' + encodeURIComponent('How many days do I have to return an item?'), kb + '/evaluation');
      await optional(all, page, kb, 'main a[href*="/documents/"]');
      await optional(all, page, kb + '/evaluation', 'main a[href*="/evaluation/runs/"]');
    }
    all.push('/console/faq/match?q=' + encodeURIComponent('How do I return an item?'));
    await optional(all, page, '/console/conversations', 'main a[href^="/console/conversations/"]');
    if (!(await firstLink(page, '/console/datasets', 'main a[href^="/console/datasets/"]'))) {
      await page.fill('form[action="/console/datasets"] input[name=name]', 'a11y dataset');
      await Promise.all([page.waitForNavigation(), page.click('form[action="/console/datasets"] button[type=submit]')]);
    }
    await optional(all, page, '/console/datasets', 'main a[href^="/console/datasets/"]');
    for (const path of all) {
      await page.goto(env.base + path);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      check(width <= 390, path + ' fits a 390 px phone (' + width + ' px)');
      await axe(page, path + ' at 390 px');
    }

    await page.setViewportSize({ width: 1280, height: 800 });
    // the docs' screenshots of pages no other scenario shows
    for (const [path, name] of [['/console/channels', 'console-channels'], ['/console/datasets', 'console-datasets']]) {
      await page.goto(env.base + path);
      await shot(page, name);
    }
    await page.goto(env.base + '/console/kb');
    check(await page.getAttribute('nav.side a[href="/console/kb"]', 'aria-current') === 'page',
      'the current page is announced (aria-current)');
    check(await page.locator('nav.side [aria-current]').count() === 1, 'one link is current');
    await page.keyboard.press('Tab');
    check(await page.evaluate(() => document.activeElement.classList.contains('skip')), 'the skip link comes first');
    await page.keyboard.press('Enter');
    check(await page.evaluate(() => document.activeElement.id === 'main'), 'the skip link moves focus to the content');

    await page.goto(env.base + '/console/');
    const charts = await page.evaluate(() => Array.from(document.querySelectorAll('svg.chart')).map((svg) => {
      const table = svg.nextElementSibling;
      return table && table.tagName === 'TABLE' && table.classList.contains('sr') ? table.rows.length : -1;
    }));
    check(charts.length > 0 && charts.every((rows) => rows >= 1), 'each overview chart has its figures as a table (' + charts + ')');
    await axe(page, '/console/ at 1280 px');
    check(page.problems.length === 0, 'no script errors or CSP violations: ' + page.problems.join(' | '));
    log('pages checked: ' + all.join(' '));

    // the platform super-admin's Tenants page (signs in with an empty workspace; replaces the session)
    if (env.superEmail) {
      const admin = await login(browser.context, '', env.superEmail, env.superPassword);
      check(new URL(admin.url()).pathname === '/console/platform/tenants', 'the super-admin lands on the Tenants page');
      await axe(admin, '/console/platform/tenants (super-admin) at 1280 px');
      await admin.setViewportSize({ width: 390, height: 844 });
      await axe(admin, '/console/platform/tenants (super-admin) at 390 px');
    } else {
      log('SKIPPED tenants page: SUPERADMIN_EMAIL is not set');
    }
  } finally {
    await browser.close();
  }
});
