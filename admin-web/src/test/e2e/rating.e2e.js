'use strict';
// Issue #18: a visitor on the customer's site (another origin) rates a conversation after staff resolved
// it. The visitor asks for a person and the staff member claims and resolves through the real widget and
// console JSON endpoints (their buttons belong to the inbox work); the widget then shows its rating form
// on the handoff.resolved frame, is used from the keyboard, and the console's transcript shows the rating.
const { env, launch, shot, log, check, login, run, hasWidgetApi } = require('./lib');

function w(page, selector) { return page.locator('[data-deepchat] >> css=' + selector); }

run('rating', async () => {
  if (!(await hasWidgetApi())) {
    log('SKIPPED rating scenario: this build does not serve the widget endpoints');
    return;
  }
  const staff = await launch();
  const visitor = await launch();
  try {
    const consolePage = await login(staff.context, env.workspace, env.email, env.password);
    await consolePage.goto(env.base + '/console/widget');
    const key = /data-key="([^"]+)"/.exec(await consolePage.innerText('#embed-snippet'))[1];

    const page = await visitor.context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(env.host + '/?key=' + encodeURIComponent(key));
    await w(page, 'button.launcher').click();
    await page.waitForSelector('[data-deepchat][data-connected=true]', { state: 'attached' });
    await w(page, 'textarea').fill('What are your opening hours?');
    await w(page, 'textarea').press('Enter');
    await page.waitForFunction(() => {
      const root = document.querySelector('[data-deepchat]').shadowRoot;
      return root.querySelector('.m.assistant:not(.greeting)') && !root.querySelector('.send').disabled;
    }, null, { timeout: 90000 });

    // the visitor asks for a person with its own token, from the customer's page
    const asked = await page.evaluate(async (base) => {
      const stored = Object.keys(localStorage).filter((k) => k.indexOf('deepchat:') === 0).map((k) => JSON.parse(localStorage.getItem(k)))[0];
      const r = await fetch(base + '/widget/handoff', { method: 'POST', mode: 'cors', credentials: 'omit',
        headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + stored.visitorToken },
        body: JSON.stringify({ conversation_id: stored.conversationId }) });
      return { status: r.status, body: await r.json(), conversation: stored.conversationId };
    }, env.base);
    check(asked.status === 200 && ['queued', 'assigned'].includes(asked.body.state), 'the visitor is queued for a person ('
      + asked.status + ' ' + JSON.stringify(asked.body) + ')');

    // the owner claims it (round-robin may have given it to an online agent already: 409) and resolves it
    // from the console (session cookie and CSRF token; an owner may resolve any conversation)
    await consolePage.goto(env.base + '/console/');
    const csrf = await consolePage.getAttribute('meta[name=csrf-token]', 'content');
    const staffAction = (action, body) => consolePage.evaluate(async ([base, conversation, action, body, token]) => {
      const r = await fetch(base + '/console/api/inbox/' + conversation + '/' + action, { method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': token }, body: JSON.stringify(body) });
      return r.status;
    }, [env.base, asked.conversation, action, body, csrf]);
    const claimed = await staffAction('claim', {});
    check(claimed === 200 || claimed === 409, 'staff claim answered ' + claimed);
    const resolved = await staffAction('resolve', { mode: 'bot' });
    check(resolved === 200, 'staff resolve answered ' + resolved);

    // the rating form arrives on the handoff.resolved frame
    const form = w(page, 'form.rate');
    await form.waitFor();
    check((await w(page, 'form.rate legend').innerText()) === 'How did we do?', 'the form is a labelled group');
    check(await w(page, 'form.rate input[type=radio]').count() === 5, 'five choices');
    check(await w(page, 'form.rate button[type=submit]').isDisabled(), 'nothing to send before a choice');
    // from the keyboard: the first star, then three more with the arrow key
    await w(page, 'form.rate input[type=radio]').first().focus();
    await page.keyboard.press('Space');
    for (let i = 0; i < 3; i++) { await page.keyboard.press('ArrowRight'); }
    check(await w(page, 'form.rate input[value="4"]').isChecked(), 'the fourth star chosen with the arrow keys');
    check(await w(page, 'form.rate label.on').count() === 4, 'four stars lit');
    check((await w(page, 'form.rate label').nth(3).getAttribute('aria-label')) === '4 of 5 stars', 'stars have names');
    await w(page, 'form.rate textarea').fill('Quick and kind, thank you');
    // focusing the hidden radios or the comment scrolls the log, never the panel past its title bar
    check(await page.evaluate(() => document.querySelector('[data-deepchat]').shadowRoot.querySelector('.panel').scrollTop) === 0,
      'the panel keeps its title bar in view');
    await shot(page, 'widget-rating');
    await w(page, 'form.rate button[type=submit]').click();
    const thanks = w(page, '[role=status]:has-text("Thank you for your rating!")');
    await thanks.waitFor();
    check(await w(page, 'form.rate').count() === 0, 'the form gives way to a thank-you');
    check(errors.length === 0, 'no script errors on the page: ' + errors.join('; '));

    await consolePage.goto(env.base + '/console/conversations/' + asked.conversation);
    const ratings = await consolePage.innerText('#conv-ratings');
    check(ratings.includes('4 / 5') && ratings.includes('Quick and kind, thank you'), 'the transcript shows the rating');
  } finally {
    await visitor.close();
    await staff.close();
  }
});
