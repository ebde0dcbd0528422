'use strict';
// The Channels page in a real browser (issue #19): an admin creates a WeChat channel in safe mode, the
// page shows its callback URL and only "(set)" for the secrets, then "Send test message" runs the loopback
// simulator round trip on the channel's own (sealed) token and EncodingAESKey and the page shows the
// answer of the demo tenant's seeded FAQ. axe-core on the page before and after.
const { env, launch, shot, check, login, run } = require('./lib');
const { axe } = require('./a11y');

const NAME = 'E2E service account ' + Date.now();
const SECRET = 'e2e-app-secret-value';
const TOKEN = 'e2eToken4711';
const AES_KEY = 'E2eKey0123456789abcdefghijklmnopqrstuvwxyzA';

run('channels', async () => {
  const { context, close } = await launch();
  try {
    const page = await login(context, env.workspace, env.email, env.password);
    await page.goto(env.base + '/console/channels');
    await axe(page, 'the Channels page');

    const add = page.locator('form[action="/console/channels"]');
    await add.locator('select[name=kind]').selectOption('wechat');
    await add.locator('input[name=name]').fill(NAME);
    await add.locator('input[name=appId]').fill('wxe2e0000000000001');
    await add.locator('input[name=appSecret]').fill(SECRET);
    await add.locator('input[name=token]').fill(TOKEN);
    await add.locator('input[name=encodingAesKey]').fill(AES_KEY);
    await add.locator('select[name=mode]').selectOption('safe');
    await Promise.all([page.waitForNavigation(), add.locator('button[type=submit]').click()]);

    const card = page.locator('.card', { has: page.locator('h2', { hasText: NAME }) });
    check(await card.count() === 1, 'the new channel is listed');
    const url = await card.locator('code').first().innerText();
    check(/^http:\/\/127\.0\.0\.1:\d+\/channels\/wechat\/[0-9a-f-]{36}$/.test(url), 'its callback URL is shown: ' + url);
    const html = await page.content();
    check(!html.includes(SECRET) && !html.includes(TOKEN) && !html.includes(AES_KEY), 'no secret is on the page');
    check(await card.locator('input[name=token]').getAttribute('placeholder') === '(set)', 'the token shows as (set)');

    await card.locator('form[action$="/test"] input[name=question]').fill('How can I contact customer support?');
    await Promise.all([page.waitForNavigation(), card.locator('form[action$="/test"] button[type=submit]').click()]);
    const result = page.locator('#test-result');
    await result.waitFor();
    const text = await result.innerText();
    check(!text.includes('The round trip failed'), 'the round trip succeeded: ' + text.replace(/\s+/g, ' '));
    check((await result.locator('.test-answer').innerText()).includes('support@demo.example'),
      'the seeded FAQ answered the simulator push');
    // passive within WeChat's budget, or (a cold FAQ model on a loaded machine) through the simulated API
    check(/passive reply|customer-service API/.test(text), 'the page says how the answer came');
    await shot(page, 'console-channels-test');
    await axe(page, 'the Channels page with a test result');
    check(page.problems.length === 0, 'no script errors or CSP violations: ' + page.problems.join(' | '));
  } finally {
    await close();
  }
});
