'use strict';
// The console's playground in a real browser: an editor asks the seeded FAQ question, the answer comes
// back through the real pipeline, and the trace panel shows the routing decision, the FAQ candidate and
// the latency breakdown; the transcript under Conversations shows the stored trace.
const { env, launch, shot, check, login, run, hasWidgetApi, log } = require('./lib');

run('playground', async () => {
  if (!(await hasWidgetApi())) {
    log('this build serves no chat pipeline: playground scenario skipped');
    return;
  }
  const { context, close } = await launch();
  try {
    const page = await login(context, env.workspace, env.email, env.password);
    await Promise.all([page.waitForNavigation(), page.click('nav a[href="/console/playground"]')]);
    check(await page.locator('h1').first().innerText() === 'Playground', 'playground opens from the menu');

    await page.fill('#playground-message', 'How can I contact customer support?');
    await page.press('#playground-message', 'Enter');
    const answer = page.locator('#playground-log .msg.assistant[data-message-id]');
    await answer.waitFor({ timeout: 30000 });
    check((await answer.innerText()).includes('support@demo.example'), 'the seeded FAQ answers');
    check(await page.inputValue('#playground-conversation') !== '', 'the next message continues the conversation');

    const routing = await page.innerText('#trace-panel [data-trace=routing]');
    check(/intent\s*faq/.test(routing) && /answered from\s*faq/.test(routing), 'trace: routed to the FAQ (' + routing.replace(/\s+/g, ' ') + ')');
    const faq = await page.innerText('#trace-panel [data-trace=faq]');
    check(faq.includes('✓'), 'trace: the matched FAQ candidate with its score');
    const latency = await page.innerText('#trace-panel [data-trace=latency]');
    check(/total\s*[0-9.]+/.test(latency) && /queue/.test(latency), 'trace: the latency breakdown');
    check(await page.locator('#trace-panel [data-trace=model]').innerText() !== '', 'trace: the model section');
    await shot(page, 'console-playground');

    // stored with the turn: the conversation's transcript shows it
    const conversation = await page.inputValue('#playground-conversation');
    await page.goto(env.base + '/console/conversations/' + conversation);
    await page.click('details.trace summary');
    check((await page.innerText('details.trace pre')).includes('"answered_from" : "faq"'), 'the transcript shows the stored trace');
    check(page.problems.length === 0, 'no script errors or CSP violations: ' + page.problems.join(' | '));
  } finally {
    await close();
  }
});
