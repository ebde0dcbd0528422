'use strict';
// The console in a real browser: sign in, upload a Markdown document with progress, run a retrieval test
// that finds it, upload a PDF and see it become ready, change the widget's colour and see the embedded widget change, and a viewer who cannot
// reach an admin action.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { env, launch, shot, log, check, login, run, hasWidgetApi, upload } = require('./lib');

const VIEWER = { email: 'viewer@demo.local', password: 'viewer password 1' };
const DOC_TITLE = 'Returns policy';
const PHRASE = 'within 30 days of delivery';

/** A one-page PDF with a text layer: a title in large type over a paragraph, written by hand. */
function tinyPdf(title, body) {
  const text = (s) => s.replace(/[\\()]/g, (c) => '\\' + c);
  const content = 'BT /F1 20 Tf 60 780 Td (' + text(title) + ') Tj ET\nBT /F1 11 Tf 60 740 Td (' + text(body)
    + ') Tj ET\n';
  const objects = ['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    '<< /Length ' + Buffer.byteLength(content, 'latin1') + ' >>\nstream\n' + content + 'endstream'];
  let pdf = '%PDF-1.4\n';
  const offsets = objects.map((o, i) => {
    const at = Buffer.byteLength(pdf, 'latin1');
    pdf += (i + 1) + ' 0 obj\n' + o + '\nendobj\n';
    return at;
  });
  const xref = Buffer.byteLength(pdf, 'latin1');
  pdf += 'xref\n0 ' + (objects.length + 1) + '\n0000000000 65535 f \n'
    + offsets.map((o) => String(o).padStart(10, '0') + ' 00000 n \n').join('')
    + 'trailer\n<< /Size ' + (objects.length + 1) + ' /Root 1 0 R >>\nstartxref\n' + xref + '\n%%EOF\n';
  return Buffer.from(pdf, 'latin1');
}

async function widgetColour(context, key) {
  const page = await context.newPage();
  await page.goto(env.host + '/?key=' + encodeURIComponent(key));
  const launcher = page.locator('[data-deepchat] >> css=button.launcher');
  await launcher.waitFor();
  const colour = await launcher.evaluate((b) => getComputedStyle(b).backgroundColor);
  await page.close();
  return colour;
}

async function saveWidget(page, fields) {
  await page.goto(env.base + '/console/widget');
  for (const [name, value] of Object.entries(fields)) {
    if (name === 'primary_color') {
      await page.locator('input[name=primary_color]').evaluate((el, v) => { el.value = v; }, value);
    } else {
      await page.fill('[name=' + name + ']', value);
    }
  }
  await Promise.all([page.waitForNavigation(), page.click('#widget-form button[type=submit]')]);
  check(page.url().includes('done=saved'), 'widget settings saved (' + JSON.stringify(fields) + ')');
}

run('console', async () => {
  const { context, close } = await launch();
  try {
    const page = await login(context, env.workspace, env.email, env.password);
    check(page.url().endsWith('/console/'), 'admin lands on the overview');
    check(await page.locator('h1').first().innerText() === 'Overview', 'overview heading');
    await shot(page, 'console-overview');

    // knowledge base: the seeded one, upload with progress
    await page.goto(env.base + '/console/kb');
    await Promise.all([page.waitForNavigation(), page.click('text=Demo knowledge base')]);
    const kbUrl = page.url();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kb-')), 'returns-policy.md');
    fs.writeFileSync(file, '# ' + DOC_TITLE + '\n\n## Refunds\n\nYou can return any item ' + PHRASE
      + ' for a full refund. Contact support@example.com with your order number.\n\n## Exchanges\n\n'
      + 'Exchanges are free for items in their original packaging.\n');
    const state = await upload(page, file);
    const label = await page.innerText('#upload-label');
    await shot(page, 'console-upload');
    // 503 "not available" means this build has no ingestion service wired into the console
    const ragWired = !(state === 'failed' && /not available/.test(label));
    if (ragWired) {
      check(state === 'ready', 'upload ingested: ' + label);
      await page.waitForNavigation({ timeout: 10000 }).catch(() => {});
      await page.goto(kbUrl);
      check((await page.innerText('#documents')).includes(DOC_TITLE), 'document listed with its chunks');
      if (await page.$('#make-default')) { // a fresh install already answers from its demo knowledge base
        await Promise.all([page.waitForNavigation(), page.click('#make-default')]);
      }
      check((await page.innerText('main')).includes('Answers use this knowledge base'), 'knowledge base answers questions');
      await page.fill('input[name=q]', 'How many days do I have to return an item?');
      await Promise.all([page.waitForNavigation(), page.click('form[action$="/search"] button')]);
      const hits = await page.innerText('#hits');
      check(hits.includes(DOC_TITLE) && hits.includes(PHRASE), 'retrieval test finds the uploaded document');
      check(/lexical/.test(hits) && /vector/.test(hits) && /fused/.test(hits), 'hits show lexical, vector and fused scores');
      await shot(page, 'console-retrieval');

      // a PDF: uploaded through the same form, its text layer ingested, listed under its heading
      await page.goto(kbUrl);
      const pdf = path.join(path.dirname(file), 'warranty.pdf');
      fs.writeFileSync(pdf, tinyPdf('Warranty Terms', 'The pump carries a warranty of 24 months from installation.'));
      const pdfStarted = Date.now();
      const pdfState = await upload(page, pdf);
      check(pdfState === 'ready', 'PDF upload ingested: ' + await page.innerText('#upload-label'));
      log('PDF ready ' + (Date.now() - pdfStarted) + ' ms after upload');
      await page.goto(kbUrl);
      check((await page.innerText('#documents')).includes('Warranty Terms'), 'PDF listed under its heading');
      await shot(page, 'console-upload-pdf');
    } else {
      log('SKIPPED ingestion and retrieval checks: the RAG module is not wired into this build');
    }

    // widget settings: allow the host page's origin, change the colour, see the widget follow
    await saveWidget(page, { allowed_origins: env.host, title: 'Ask Demo', greeting: 'Hello! Ask me anything.',
      primary_color: '#e11d48' });
    const snippet = await page.innerText('#embed-snippet');
    const key = /data-key="([^"]+)"/.exec(snippet)[1];
    check(/^pk_[0-9a-f]{32}_[A-Za-z0-9]{16}$/.test(key), 'embed snippet carries the widget key');
    await shot(page, 'console-widget');
    if (await hasWidgetApi()) {
      check(await widgetColour(context, key) === 'rgb(225, 29, 72)', 'embedded widget uses the saved colour');
      await saveWidget(page, { primary_color: '#059669' });
      check(await widgetColour(context, key) === 'rgb(5, 150, 105)', 'embedded widget follows the colour change');
    } else {
      log('SKIPPED widget colour check on the host page: the widget endpoints (chat pipeline) are not in this build');
    }

    // a viewer, created in the console, cannot reach admin actions
    await page.goto(env.base + '/console/users');
    await page.fill('form[action="/console/users"] input[name=email]', VIEWER.email);
    await page.fill('form[action="/console/users"] input[name=password]', VIEWER.password);
    await page.selectOption('form[action="/console/users"] select[name=role]', 'viewer');
    await Promise.all([page.waitForNavigation(), page.click('form[action="/console/users"] button[type=submit]')]);
    check((await page.innerText('table')).includes(VIEWER.email), 'viewer account created');

    const viewerBrowser = await launch();
    try {
      const vpage = await login(viewerBrowser.context, env.workspace, VIEWER.email, VIEWER.password);
      check(vpage.url().endsWith('/console/'), 'viewer signed in');
      check(await vpage.locator('a[href="/console/keys"]').count() === 0, 'viewer sees no admin navigation');
      const response = await vpage.goto(env.base + '/console/keys');
      check(response.status() === 403, 'viewer opening API keys gets 403');
      check((await vpage.innerText('main')).includes("You don't have permission"), '403 page explains it');
      check(/Request id/.test(await vpage.innerText('main')), '403 page shows the request id');
      await shot(vpage, 'console-403');
      // even a hand-made request with the viewer's own valid CSRF token is refused and changes nothing
      await vpage.goto(env.base + '/console/widget');
      const status = await vpage.evaluate(async () => {
        const body = new URLSearchParams({ _csrf: document.querySelector('meta[name=csrf-token]').content,
          title: 'hacked', greeting: 'x', primary_color: '#000000', language: 'en', position: 'left',
          allowed_origins: '' });
        return (await fetch('/console/widget', { method: 'POST', body })).status;
      });
      check(status === 403, 'viewer POST to widget settings is refused (' + status + ')');
      await page.goto(env.base + '/console/widget');
      check(await page.inputValue('input[name=title]') === 'Ask Demo', 'widget settings unchanged');
    } finally {
      await viewerBrowser.close();
    }

    // Chinese interface
    await page.goto(env.base + '/console/');
    await Promise.all([page.waitForNavigation(), page.click('nav a[href^="/console/lang/zh"]')]);
    check((await page.innerText('nav')).includes('概览'), 'interface switches to Chinese');
    await shot(page, 'console-zh');
    await Promise.all([page.waitForNavigation(), page.click('nav a[href^="/console/lang/en"]')]);

    // the audit log recorded the changes
    await page.goto(env.base + '/console/audit');
    const audit = await page.innerText('table');
    check(audit.includes('widget.update') && audit.includes('user.create'), 'audit log lists the console changes');
    // details are one line until opened, as indented JSON; the page fits the 1280 px viewport; the table scrolls by keyboard
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    check(width <= 1280, 'audit page fits a 1280 px viewport (' + width + ' px)');
    check(await page.getAttribute('.table-wrap', 'tabindex') === '0', 'audit table scroll container takes focus');
    const details = page.locator('td.audit-details details').first();
    await details.locator('summary').click();
    check((await details.locator('pre').innerText()).includes('\n  "'), 'audit details open onto indented JSON');
    await shot(page, 'console-audit');
    check(page.problems.length === 0, 'no script errors or CSP violations: ' + page.problems.join(' | '));
  } finally {
    await close();
  }
});
