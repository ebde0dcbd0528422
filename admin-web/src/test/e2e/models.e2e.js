'use strict';
// The Models page in a real browser (issue #22 item 4): the live workers list names the bundled test
// model's worker; a refused version is explained beside its field with everything typed kept; then a
// canary of two versions of the test model runs, real traffic goes through the pipeline (playground
// turns), and the comparison panel shows both arms' numbers, the guard bounds and the events.
const { env, launch, shot, check, login, run, hasWidgetApi, log } = require('./lib');
const { axe } = require('./a11y');

const TURNS = 16;

run('models', async () => {
  if (!(await hasWidgetApi())) {
    log('this build serves no chat pipeline: models scenario skipped');
    return;
  }
  const { context, close } = await launch({ viewport: { width: 1280, height: 1000 } });
  try {
    const page = await login(context, env.workspace, env.email, env.password);
    page.on('dialog', (d) => d.accept());
    await Promise.all([page.waitForNavigation(), page.click('nav a[href="/console/models"]')]);
    check(await page.locator('h1').first().innerText() === 'Models', 'the Models page opens from the menu');

    // the bundled test model's worker announces itself: key, node, device, queue depth
    const worker = page.locator('#workers tbody tr[data-worker]').first();
    await worker.waitFor();
    const cells = await worker.locator('td').allInnerTexts();
    check(cells[0] === 'tiny-test' && cells[1] !== '' && cells[2] === 'cpu' && /^\d+$/.test(cells[4]),
      'live workers list the served key with node, device and queue depth (' + cells.join(' | ') + ')');

    // inline validation: each refusal sits beside its field and nothing typed is lost
    const form = page.locator('#add-version form');
    await form.locator('input[name=name]').fill('e2e-stable');
    await form.locator('select[name=backend]').selectOption('local');
    await form.locator('input[name=location]').fill('/models/r1-distill-1.5b');
    await form.locator('textarea[name=params]').fill('{"max_tokens": 24}');
    await form.locator('textarea[name=system_prompt_template]').fill('You are brief.');
    await Promise.all([page.waitForNavigation(), form.locator('button[type=submit]').click()]);
    check((await page.innerText('#error-location')).includes('looks like a folder'), 'a folder path is refused beside Location');
    const again = page.locator('#add-version form');
    check(await again.locator('input[name=name]').inputValue() === 'e2e-stable'
      && await again.locator('textarea[name=params]').inputValue() === '{"max_tokens": 24}'
      && await again.locator('textarea[name=system_prompt_template]').inputValue() === 'You are brief.'
      && await again.locator('input[name=location]').inputValue() === '/models/r1-distill-1.5b', 'the form keeps what was typed');
    check(await again.locator('input[name=location]').getAttribute('aria-invalid') === 'true', 'the field is marked invalid');
    await shot(page, 'console-models-validation');
    await axe(page, 'the Models page with a refused field');

    await again.locator('input[name=location]').fill('tiny-test');
    await again.locator('textarea[name=params]').fill('{"max_tokens": 24');
    await Promise.all([page.waitForNavigation(), again.locator('button[type=submit]').click()]);
    check((await page.innerText('#error-params')).includes('JSON'), 'bad parameter JSON is refused beside Parameters');
    check(await page.locator('#add-version input[name=location]').inputValue() === 'tiny-test', 'the corrected location is kept');

    await page.locator('#add-version select[name=backend]').selectOption('openai');
    await page.locator('#add-version input[name=location]').fill('http://models.example.com/v1');
    await page.locator('#add-version textarea[name=params]').fill('{"max_tokens": 24}');
    await Promise.all([page.waitForNavigation(), page.locator('#add-version button[type=submit]').click()]);
    check((await page.innerText('#error-location')).includes('https'), 'a plain http endpoint is refused beside Location');

    // two versions of the test model; the first becomes stable, the second a 50% canary
    for (const name of ['e2e-stable', 'e2e-candidate']) {
      const f = page.locator('#add-version form');
      await f.locator('input[name=name]').fill(name);
      await f.locator('select[name=backend]').selectOption('local');
      await f.locator('input[name=location]').fill('tiny-test');
      await f.locator('textarea[name=params]').fill('{"max_tokens": 24}');
      await Promise.all([page.waitForNavigation(), f.locator('button[type=submit]').click()]);
      check(await page.locator('#versions tr[data-version="' + name + '"]').count() === 1, name + ' is listed');
    }
    check((await page.innerText('#versions tr[data-version="e2e-candidate"] .live')) === 'live', 'the live column marks a served key');
    await Promise.all([page.waitForNavigation(),
      page.locator('#versions tr[data-version="e2e-stable"] form[action$="/stable"] button').click()]);
    await page.locator('form[action="/console/rollouts"] input[name=percentage]').fill('50');
    await Promise.all([page.waitForNavigation(), page.locator('form[action="/console/rollouts"] button').click()]);
    check(await page.locator('#comparison[data-state=active]').count() === 1, 'the running canary shows its comparison panel');

    // real traffic: playground turns through the pipeline, each a new conversation (its own bucket)
    const answered = await page.evaluate(async (turns) => {
      const token = document.querySelector('meta[name=csrf-token]').content;
      const models = [];
      for (let i = 0; i < turns; i++) {
        const resp = await fetch('/console/playground/turn', {
          method: 'POST', credentials: 'same-origin',
          headers: { 'X-CSRF-Token': token, 'Content-Type': 'application/json', 'Accept': 'application/json' },
          body: JSON.stringify({ message: 'Hi there! How are you doing today? ' + i }),
        });
        const body = await resp.json();
        models.push(body.error ? 'error:' + body.error.code : body.model + ' (' + (body.content || '').length + ' chars, '
          + body.intent + ')');
      }
      return models;
    }, TURNS);
    log('answered by: ' + answered.join(', '));
    check(answered.some((a) => a.startsWith('e2e-stable ')) && answered.some((a) => a.startsWith('e2e-candidate ')),
      'the canary split real conversations between both versions');

    // the comparison panel: both arms' numbers from the stored outcomes
    let rows = {};
    for (let attempt = 0; attempt < 20; attempt++) {
      await page.goto(env.base + '/console/models');
      rows = await page.evaluate(() => {
        const out = {};
        document.querySelectorAll('#comparison tbody tr[data-measure]').forEach((tr) => {
          out[tr.getAttribute('data-measure')] = Array.from(tr.querySelectorAll('td .value')).map((v) => v.textContent.trim());
        });
        return out;
      });
      // outcomes are stored as each generation ends (FAQ answers need none): wait for both arms' figures
      const requests = rows['models.cmp.requests'] || [];
      const ttft = rows['models.cmp.ttftP50'] || [];
      if (requests.length === 2 && requests.every((v) => v !== '0') && ttft.every((v) => v !== '—')) { break; }
      await page.waitForTimeout(250);
    }
    log('comparison: ' + JSON.stringify(rows));
    const requests = rows['models.cmp.requests'].map((v) => Number(v.replace(/,/g, '')));
    check(requests[0] > 0 && requests[1] > 0, 'both arms count generations (' + requests.join(' vs ') + ')');
    check(rows['models.cmp.ttftP50'].every((v) => /^\d+ ms$|^[\d.]+ s$/.test(v))
      && rows['models.cmp.totalP95'].every((v) => /^\d+ ms$|^[\d.]+ s$/.test(v)), 'both arms show latency percentiles ('
      + rows['models.cmp.ttftP50'].join(' vs ') + ')');
    check(rows['models.cmp.errorRate'].every((v) => /%$/.test(v)), 'both arms show an error rate');
    check(await page.locator('#comparison tbody tr[data-measure="models.cmp.ttftP95"] .delta').count() === 1, 'the candidate shows its difference');
    check((await page.innerText('#comparison .guard')).includes('rolled back automatically'), 'the guard bounds are stated');
    check((await page.innerText('#rollout-events')).includes('rollout.started'), 'the events timeline lists the start');
    await shot(page, 'console-models');
    await axe(page, 'the Models page with the running canary\'s comparison panel');
    check(page.problems.length === 0, 'no script errors or CSP violations: ' + page.problems.join(' | '));
  } finally {
    await close();
  }
});
