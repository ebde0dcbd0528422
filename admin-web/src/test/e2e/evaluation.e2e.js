'use strict';
// Retrieval evaluation in the console: upload a document, paste a set of questions (one malformed try
// first, refused with its line and the text kept), run it, and read recall@1/5, MRR and per-question ranks;
// then run it again at candidate routing thresholds, for that run only.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { env, launch, shot, check, login, run, upload } = require('./lib');
const { axe } = require('./a11y');

run('evaluation', async () => {
  const { context, close } = await launch();
  try {
    const page = await login(context, env.workspace, env.email, env.password);
    await page.goto(env.base + '/console/kb');
    await Promise.all([page.waitForNavigation(), page.click('text=Demo knowledge base')]);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'eval-')), 'warranty-guide.md');
    fs.writeFileSync(file, '# Warranty guide\n\n## Repairs\n\nBroken devices are repaired free of charge for two years.\n\n'
      + '## Batteries\n\nBatteries are covered for one year and replaced when they hold less than 80 percent.\n');
    const kbUrl = page.url();
    check(await upload(page, file) === 'ready', 'document ingested');
    await page.waitForNavigation({ timeout: 10000 }).catch(() => {}); // the page reloads after an upload
    await page.goto(kbUrl);

    await Promise.all([page.waitForNavigation(), page.click('#evaluation-link')]);
    check(page.url().endsWith('/evaluation'), 'evaluation page opens from the knowledge base');

    await page.fill('#eval-set-form input[name=name]', 'warranty');
    await page.fill('#eval-set-form textarea[name=content]', 'question,document,section\n,warranty-guide.md,Repairs\n');
    await Promise.all([page.waitForNavigation(), page.click('#eval-set-form button[type=submit]')]);
    check((await page.innerText('#eval-error')).includes('line 2'), 'a malformed set is refused with its line');
    check((await page.inputValue('#eval-set-form textarea[name=content]')).includes('warranty-guide.md'), 'the pasted text is kept');

    await page.fill('#eval-set-form textarea[name=content]', 'question,document,section\n'
      + 'Will you fix my broken device for free?,warranty-guide.md,Repairs\n'
      + '电池坏了保修多久？,Warranty guide,Batteries\n');
    await Promise.all([page.waitForNavigation(), page.click('#eval-set-form button[type=submit]')]);
    check((await page.innerText('#sets')).includes('warranty'), 'set saved');

    await Promise.all([page.waitForNavigation(), page.click('#sets button.run-set')]);
    for (let i = 0; i < 60 && await page.locator('#runs tr[data-status=running]').count() > 0; i++) {
      await page.waitForTimeout(500);
      await page.reload();
    }
    const row = page.locator('#runs tbody tr').first();
    check(await row.getAttribute('data-status') === 'done', 'run finished');
    check(/^\d\.\d{3}$/.test(await row.locator('.recall5').innerText()), 'recall@5 shown: ' + await row.locator('.recall5').innerText());
    check(await row.locator('.recall5').innerText() === '1.000', 'both questions found in the top 5');
    await shot(page, 'console-evaluation');
    await axe(page, 'the evaluation page with a finished run');

    await Promise.all([page.waitForNavigation(), row.locator('a').click()]);
    check(await page.locator('#questions tbody tr').count() === 2, 'per-question ranks listed');
    check((await page.innerText('#questions')).includes('电池坏了保修多久？'), 'questions shown with their ranks');
    check((await page.innerText('#run-routing')).includes('0.520'), 'the saved knowledge threshold measured: '
      + await page.innerText('#run-routing'));
    await shot(page, 'console-evaluation-run');
    await axe(page, 'an evaluation run with its per-question ranks');

    // candidate thresholds that cite every hit: both questions answered with their passage, for this run only
    await page.goBack();
    await page.fill('#sets input.candidate-knowledge', '0');
    await page.fill('#sets input.candidate-citation', '0');
    await Promise.all([page.waitForNavigation(), page.click('#sets button.run-set')]);
    for (let i = 0; i < 60 && await page.locator('#runs tr[data-status=running]').count() > 0; i++) {
      await page.waitForTimeout(500);
      await page.reload();
    }
    await Promise.all([page.waitForNavigation(), page.locator('#runs tbody tr').first().locator('a').click()]);
    const routing = await page.innerText('#run-routing');
    check(routing.includes('0.000') && routing.includes('1.000'), 'the candidate thresholds measured: ' + routing);
    check(page.problems.length === 0, 'no script errors or CSP violations: ' + page.problems.join(' | '));
  } finally {
    await close();
  }
});
