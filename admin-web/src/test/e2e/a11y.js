'use strict';
// axe-core in the browser tests: WCAG 2.0/2.1/2.2 A and AA rules over the whole document, open shadow
// roots included (the widget's), zero violations allowed. The engine is injected through the DevTools
// protocol (page.evaluate), so the pages' Content-Security-Policy stays as it is.
const axeSource = require('axe-core').source;
const { check, log } = require('./lib');

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/**
 * Runs axe on the page as it is now, or only on the element that selector names (and its shadow root:
 * the widget on a customer's page, whose own markup is not ours); fails with every violation's rule,
 * impact and first targets.
 */
async function axe(page, what, selector) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(axeSource);
  }
  const result = await page.evaluate(([tags, only]) => window.axe.run(only ? { include: [only] } : document,
    { runOnly: { type: 'tag', values: tags } })
    .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 4).map((n) => [].concat(n.target).join(' >>> ') + (n.failureSummary
        ? ' (' + n.failureSummary.replace(/\s+/g, ' ').slice(0, 220) + ')' : '')) }))), [TAGS, selector || null]);
  result.forEach((v) => log('axe violation on ' + what + ': ' + v.id + ' [' + v.impact + '] ' + v.help
    + '\n    ' + v.nodes.join('\n    ')));
  check(result.length === 0, 'axe: no WCAG 2.2 AA violations on ' + what);
}

module.exports = { axe };
