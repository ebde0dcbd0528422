'use strict';
// The FAQ match test in a real browser, on the demo tenant's seeded FAQ entries: a paraphrase in
// capitals finds "How can I contact customer support?" with its score and the mark that it answers;
// a greeting finds no FAQ that answers.
const { env, launch, shot, check, login, run } = require('./lib');
const { axe } = require('./a11y');

async function test(page, question) {
  await page.goto(env.base + '/console/faq');
  await page.fill('#faq-match input[name=q]', question);
  await Promise.all([page.waitForNavigation(), page.click('#faq-match button[type=submit]')]);
  await page.locator('#faq-candidates').waitFor();
}

run('faq-match', async () => {
  const { context, close } = await launch();
  try {
    const page = await login(context, env.workspace, env.email, env.password);
    await test(page, 'WHAT IS THE BEST WAY TO REACH YOUR SUPPORT PEOPLE?');
    const best = page.locator('#faq-candidates article.candidate').first();
    check((await best.innerText()).includes('How can I contact customer support?'), 'the support FAQ is the best candidate');
    const score = Number(await best.locator('.score').innerText());
    check(score >= 0.67 && score <= 1, 'its score is shown (' + score + ')');
    check(await best.evaluate((el) => el.classList.contains('answers')), 'it is marked as the answering entry');
    check(await page.locator('#faq-candidates article.candidate').count() >= 2, 'every entry is scored (' + await page.locator('#faq-candidates article.candidate').count() + ')');
    await shot(page, 'console-faq-match');
    await axe(page, 'the FAQ match test with its candidates');

    await test(page, 'Hello there, how are you today?');
    check(await page.locator('#faq-candidates article.answers').count() === 0, 'a greeting has no answering FAQ');
    check((await page.innerText('#faq-verdict')).includes('chat'), 'the verdict names the path it goes to');
    check(page.problems.length === 0, 'no script errors or CSP violations: ' + page.problems.join(' | '));
  } finally {
    await close();
  }
});
