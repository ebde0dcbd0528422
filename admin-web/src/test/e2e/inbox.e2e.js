'use strict';
// Human handoff (issue #18), two browsers: a visitor in the widget on a customer's site (another origin)
// and an agent in the console's inbox. Escalate, queue, claim, messages both ways with typing, an
// internal note that never reaches the visitor, resolve back to the assistant. Phone width for both.
const { env, launch, shot, log, check, login, run, hasWidgetApi } = require('./lib');
const { axe } = require('./a11y');

const AGENT = { email: 'agent@demo.local', password: 'e2e agent password', name: 'Anna' };
const VISITOR_Q = 'Can I speak to someone about my order?';
const REPLY = 'Hello, this is Anna. Let me look at your order.';
const NOTE = 'NOTE-FOR-STAFF-ONLY order 4711 looks delayed';
const VISITOR_MSG = 'It is order 4711, thank you!';
const TICKET = 'Please call me back about order 4711.';

/** The widget's shadow root parts, through Playwright's shadow-piercing CSS engine. */
function w(page, selector) { return page.locator('[data-deepchat] >> css=' + selector); }

/** Waits (up to 10 s) until a condition of this script's own state holds. */
async function until(condition, what) {
  for (let i = 0; i < 100 && !condition(); i++) { await new Promise((r) => setTimeout(r, 100)); }
  check(condition(), what);
}

function watchProblems(page, problems) {
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('console', (m) => { if (/Content Security Policy|Refused to/.test(m.text())) { problems.push(m.text()); } });
}

/** The widget key, with the customer site's origin allowed (whatever ran before). */
async function widgetKey(page) {
  await page.goto(env.base + '/console/widget');
  const origins = await page.inputValue('textarea[name=allowed_origins]');
  if (!origins.split(/\s+/).includes(env.host)) {
    await page.fill('textarea[name=allowed_origins]', (origins.trim() + '\n' + env.host).trim());
    await Promise.all([page.waitForNavigation(), page.click('#widget-form button[type=submit]')]);
  }
  return /data-key="([^"]+)"/.exec(await page.innerText('#embed-snippet'))[1];
}

/** An agent account (role agent), created by the admin once; false when this build has no such role. */
async function createAgent(page) {
  await page.goto(env.base + '/console/users');
  const form = 'form[action="/console/users"]';
  const roles = await page.locator(form + ' select[name=role] option').evaluateAll((os) => os.map((o) => o.value));
  if (!roles.includes('agent')) { return false; }
  if ((await page.innerText('main')).includes(AGENT.email)) { return true; }
  await page.fill(form + ' input[name=email]', AGENT.email);
  await page.fill(form + ' input[name=display_name]', AGENT.name);
  await page.fill(form + ' input[name=password]', AGENT.password);
  await page.selectOption(form + ' select[name=role]', 'agent');
  await Promise.all([page.waitForNavigation(), page.click(form + ' button[type=submit]')]);
  return true;
}

run('inbox', async () => {
  if (!(await hasWidgetApi())) {
    log('SKIPPED inbox scenario: this build does not serve the widget endpoints');
    return;
  }
  const admin = await launch();
  const visitor = await launch();
  try {
    const adminPage = await login(admin.context, env.workspace, env.email, env.password);
    const key = await widgetKey(adminPage);
    const probe = await adminPage.evaluate(() => fetch('/console/api/inbox', { headers: { Accept: 'application/json' } })
      .then((r) => r.status));
    if (probe === 404) {
      log('SKIPPED inbox scenario: this build has no handoff backend (/console/api/inbox is 404)');
      return;
    }
    const hasAgentRole = await createAgent(adminPage);
    await adminPage.close();
    // the agent signs in in a context of their own; an admin may use the inbox when no agent role exists
    const agentBrowser = hasAgentRole ? await launch() : admin;
    const agent = hasAgentRole ? await login(agentBrowser.context, env.workspace, AGENT.email, AGENT.password)
      : await login(admin.context, env.workspace, env.email, env.password);
    const agentProblems = agent.problems;
    log('agent signs in as ' + (hasAgentRole ? 'an agent' : 'the admin (no agent role in this build)'));

    // the agent opens the inbox first: the visitor's arrival must come over the event stream, not a reload
    await agent.click('nav.side a[href="/console/inbox"]');
    await agent.waitForSelector('#inbox[data-live=true]');
    check(true, 'inbox page reached from the menu and its event stream is live');
    let apiCalls = 0;
    agent.on('request', (r) => { if (/\/console\/api\/inbox$/.test(r.url())) { apiCalls++; } });

    // ---- the visitor asks for a person on the customer's site ----
    const page = await visitor.context.newPage();
    const visitorProblems = [];
    watchProblems(page, visitorProblems);
    const received = [];
    const sent = [];
    page.on('websocket', (ws) => {
      ws.on('framereceived', (f) => received.push(String(f.payload)));
      ws.on('framesent', (f) => sent.push(String(f.payload)));
    });
    await page.goto(env.host + '/?key=' + encodeURIComponent(key));
    await w(page, 'button.launcher').click();
    await page.waitForSelector('[data-deepchat][data-connected=true]', { state: 'attached' });
    const human = w(page, 'button.human');
    check(await human.isVisible(), 'the "talk to a person" button is visible despite the host page hiding buttons');
    await human.click();
    await page.waitForSelector('[data-deepchat][data-handoff=queued]', { state: 'attached' });
    const status = await w(page, '.hstatus').innerText();
    check(/queue|Waiting/.test(status), 'the visitor sees their place in the queue: "' + status + '"');
    check(!(await human.isVisible()), 'the button is gone while waiting');
    await shot(page, 'widget-handoff-queued');

    // the visitor writes while waiting: stored for staff, no bot answer
    await w(page, 'textarea#dc-input').fill(VISITOR_Q);
    await w(page, 'textarea#dc-input').press('Enter');
    await page.waitForFunction(() => !document.querySelector('[data-deepchat]').shadowRoot.querySelector('.send').disabled);

    // ---- the agent sees it live and claims it ----
    const item = agent.locator('#inbox-queue .inbox-item').first();
    await item.waitFor();
    check(apiCalls >= 1, 'the queue was re-read because the stream said it changed (' + apiCalls + ' reads)');
    await item.locator('button[data-claim]').click();
    await agent.waitForSelector('#inbox-mine .inbox-item.current');
    await agent.waitForFunction((q) => document.getElementById('inbox-log').innerText.includes(q), VISITOR_Q);
    check(true, 'claimed: the conversation moved to "My conversations" with its history');
    await page.waitForSelector('[data-deepchat][data-handoff=assigned]', { state: 'attached' });
    if (hasAgentRole) {
      check((await w(page, '.log').innerText()).includes(AGENT.name + ' joined'), 'the visitor is told ' + AGENT.name + ' joined');
    }

    // ---- typing and messages both ways ----
    await agent.focus('#inbox-text-box');
    await agent.keyboard.type('Hello', { delay: 20 });
    await w(page, '.atyping:not([hidden])').waitFor();
    check(true, 'the visitor sees the agent typing');
    await agent.fill('#inbox-text-box', REPLY);
    await agent.press('#inbox-text-box', 'Enter');
    const agentBubble = w(page, '.m.agent').last();
    await agentBubble.waitFor();
    check((await agentBubble.innerText()).includes(REPLY), 'the agent\'s reply reaches the widget live');
    if (hasAgentRole) {
      check(await agentBubble.locator('.who').innerText() === AGENT.name, 'shown under the agent\'s name');
    }
    check(await w(page, '.atyping').isHidden(), 'the typing indicator goes with the message');

    const typingFrames = () => sent.filter((f) => f.includes('"visitor.typing"') && f.includes('"typing":true')).length;
    const before = typingFrames();
    await w(page, 'textarea#dc-input').focus();
    await page.keyboard.type('It is', { delay: 20 });
    await until(() => typingFrames() > before, 'a visitor.typing frame for the new words');
    await agent.waitForSelector('#inbox-typing:not([hidden])');
    check(true, 'the agent sees the visitor typing');
    await w(page, 'textarea#dc-input').fill(VISITOR_MSG);
    await w(page, 'textarea#dc-input').press('Enter');
    await agent.waitForFunction((m) => document.getElementById('inbox-log').innerText.includes(m), VISITOR_MSG);
    check(true, 'the visitor\'s message reaches the agent live');
    const order = await w(page, '.log').innerText();
    check(order.indexOf(REPLY) < order.indexOf(VISITOR_MSG), 'the widget keeps the messages in the order they came');

    // ---- an internal note stays with staff ----
    await agent.check('#inbox-note-mode');
    await agent.fill('#inbox-text-box', NOTE);
    await agent.press('#inbox-text-box', 'Enter');
    await agent.waitForSelector('#inbox-log .msg.note:not(.pending)');
    await agent.uncheck('#inbox-note-mode');
    // a canned reply: saved once, inserted from the list, sent like any reply
    await agent.click('.inbox-canned-admin summary');
    await agent.fill('#inbox-canned-title', 'Ships tomorrow');
    await agent.fill('#inbox-canned-text', 'Your order ships tomorrow.');
    await agent.click('#inbox-canned-form button[type=submit]');
    await agent.waitForSelector('#inbox-canned option:text("Ships tomorrow")', { state: 'attached' });
    await agent.selectOption('#inbox-canned', { label: 'Ships tomorrow' });
    check(await agent.inputValue('#inbox-text-box') === 'Your order ships tomorrow.', 'a canned reply fills the reply box');
    await agent.click('.inbox-canned-admin summary'); // folded again, for the screenshot
    await agent.press('#inbox-text-box', 'Enter');
    await page.waitForFunction(() => document.querySelector('[data-deepchat]').shadowRoot.querySelector('.log')
      .innerText.includes('ships tomorrow'));
    check(!(await w(page, '.log').innerText()).includes('NOTE-FOR-STAFF-ONLY'), 'the note is not shown to the visitor');
    if (hasAgentRole) {
      await agent.waitForSelector('#inbox-log .msg.agent:not(.pending)');
      const authors = await agent.locator('#inbox-log .msg.agent .meta strong, #inbox-log .msg.note .meta strong').allInnerTexts();
      check(authors.length === 3 && authors.every((n) => n === AGENT.name), 'the inbox names the author of replies and notes: ' + authors);
    }
    check(!received.some((f) => f.includes('NOTE-FOR-STAFF-ONLY')), 'no frame to the visitor carried the note');
    await shot(page, 'widget-handoff-agent');
    await axe(page, 'the widget with the handoff bar and the agent\'s messages', '[data-deepchat]');
    await agent.evaluate(() => window.scrollTo(0, 0));
    await shot(agent, 'console-inbox');
    await axe(agent, 'the inbox in the ' + (hasAgentRole ? 'agent' : 'admin') + '\'s view, a conversation open');

    // ---- phone width: the conversation alone, with a way back to the lists ----
    await agent.setViewportSize({ width: 390, height: 844 });
    check(await agent.isVisible('#inbox-back') && !(await agent.isVisible('.inbox-lists')), 'phone width shows the conversation alone');
    const overflow = await agent.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 1, 'nothing wider than a 390 px phone (' + overflow + ' px over)');
    await shot(agent, 'console-inbox-phone');
    await axe(agent, 'the inbox at 390 px');
    await agent.setViewportSize({ width: 1280, height: 860 });

    // ---- presence: the agent says they are online ----
    const wasOnline = await agent.getAttribute('#inbox-presence', 'aria-pressed');
    await agent.click('#inbox-presence');
    await agent.waitForFunction((was) => document.getElementById('inbox-presence').getAttribute('aria-pressed') !== was, wasOnline);
    check(true, 'presence toggled (was online: ' + wasOnline + ')');

    // ---- an admin sees who has what ----
    const owner = await login(admin.context, env.workspace, env.email, env.password);
    if (hasAgentRole) {
      await owner.goto(env.base + '/console/inbox');
      const held = owner.locator('#inbox-others .inbox-item').first();
      await held.waitFor();
      check((await held.innerText()).includes(AGENT.name), 'an admin sees the conversation under ' + AGENT.name + ' in "With other agents"');
      await held.locator('.inbox-open').click();
      await owner.waitForSelector('#inbox-resolve-bot:not([hidden])');
      check(await owner.isChecked('#inbox-note-mode') && await owner.isDisabled('#inbox-note-mode'),
        'an admin may transfer or resolve it, and write notes, not replies');
      await axe(owner, 'the inbox in an admin\'s view, another agent\'s conversation open');
    }

    // ---- resolve: back to the assistant ----
    await agent.click('#inbox-resolve-bot');
    await page.waitForSelector('[data-deepchat][data-handoff=bot]', { state: 'attached' });
    check(await human.isVisible(), 'resolved: the visitor is back with the assistant and may ask for a person again');
    await agent.waitForFunction(() => !document.querySelector('#inbox-mine .inbox-item.current'));
    check(true, 'the conversation left "My conversations"');

    // ---- outside business hours: the button offers the message form, stored as a ticket ----
    const settings = (body) => owner.evaluate((b) => fetch('/console/api/inbox/settings', { method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': document.querySelector('meta[name="csrf-token"]').content },
      body: JSON.stringify(b) }).then((r) => r.status), body);
    check(await settings({ business_hours: {} }) === 200, 'the workspace is closed (no business hours)');
    try {
      await human.click();
      const form = w(page, 'form.ticket');
      await form.waitFor();
      check(await page.evaluate(() => document.querySelector('[data-deepchat]').shadowRoot.activeElement.name) === 'message',
        'the message form opens with the focus in its message box');
      await form.locator('textarea[name=message]').fill(TICKET);
      await form.locator('input[name=email]').fill('not-an-address');
      await form.locator('button[type=submit]').click();
      await form.locator('.err:not(:empty)').waitFor();
      check(await form.locator('textarea[name=message]').inputValue() === TICKET, 'a refused message stays in the form: '
        + await form.locator('.err').innerText());
      await form.locator('input[name=email]').fill('li@example.com');
      await shot(page, 'widget-handoff-offline');
      await form.locator('button[type=submit]').click();
      await form.waitFor({ state: 'detached' });
      check((await w(page, '.log').innerText()).includes('Thanks, your message was sent'), 'the visitor is thanked');
      const tickets = await owner.evaluate(() => fetch('/console/api/inbox/tickets').then((r) => r.json()));
      check(tickets.tickets.some((t) => t.message === TICKET && t.email === 'li@example.com'), 'the ticket is stored with the contact');
    } finally {
      await settings({ business_hours: null });
    }

    check(visitorProblems.length === 0, 'no script errors in the widget: ' + visitorProblems.join(' | '));
    const consoleProblems = agentProblems.concat(owner.problems);
    check(consoleProblems.length === 0, 'no script errors or CSP violations in the console: ' + consoleProblems.join(' | '));
    if (hasAgentRole) { await agentBrowser.close(); }
  } finally {
    await visitor.close();
    await admin.close();
  }
});
