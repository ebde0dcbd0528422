'use strict';
// Accessibility of the console (issue #22 item 8): axe-core (WCAG 2.2 AA) on every page of the
// navigation, the sign-in page and the 404 page, each at phone width where it must also fit 390 px
// without sideways scrolling of the page; a skip link first in the Tab order; the current page
// announced with aria-current; the overview's charts with their figures for screen readers.
const { env, launch, log, check, login, run } = require('./lib');
const { axe } = require('./a11y');

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
    const kb = await (async () => {
      await page.goto(env.base + '/console/kb');
      const link = page.locator('main a[href^="/console/kb/"]').first();
      return (await link.count()) ? link.getAttribute('href') : null;
    })();
    const all = Array.from(new Set(paths.concat(kb ? [kb] : []).concat(['/console/no-such-page'])));
    check(all.length >= 12, 'the navigation lists the console pages (' + all.length + ')');
    for (const path of all) {
      await page.goto(env.base + path);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      check(width <= 390, path + ' fits a 390 px phone (' + width + ' px)');
      await axe(page, path + ' at 390 px');
    }

    await page.setViewportSize({ width: 1280, height: 860 });
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
  } finally {
    await browser.close();
  }
});
