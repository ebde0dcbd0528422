'use strict';
// Shared helpers of the browser tests: launching Debian's Chromium through playwright-core, the
// environment the JUnit runner passes, screenshots, and small assertions that fail with a message.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const env = {
  base: required('BASE_URL'),
  host: process.env.HOST_URL || '',
  workspace: process.env.ADMIN_WORKSPACE || 'demo',
  email: process.env.ADMIN_EMAIL || 'admin@demo.local',
  password: required('ADMIN_PASSWORD'),
  superEmail: process.env.SUPERADMIN_EMAIL || '',
  superPassword: process.env.SUPERADMIN_PASSWORD || '',
  shots: process.env.SCREENSHOT_DIR || path.resolve('target/e2e-screenshots'),
  chromium: process.env.CHROMIUM || '/usr/bin/chromium',
};

/**
 * Whether this build serves the widget endpoints (the chat pipeline): an unknown path gets the
 * gateway's JSON 404 "not_found", a served one answers with its own status.
 */
async function hasWidgetApi() {
  const r = await fetch(env.base + '/widget/config?key=pk_00000000000000000000000000000000_AAAAAAAAAAAAAAAA');
  if (r.status !== 404) { return true; }
  const body = await r.json().catch(() => ({}));
  return !(body.error && body.error.code === 'not_found');
}

function required(name) {
  const v = process.env[name];
  if (!v) { throw new Error('missing environment variable ' + name); }
  return v;
}

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A fresh browser with a new, empty profile directory (removed on close); 1280x800 unless told (the docs' screenshots). */
async function launch(options = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'deepchat-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: env.chromium, headless: true, args: ARGS,
    viewport: options.viewport || { width: 1280, height: 800 }, locale: options.locale || 'en-US',
  });
  context.setDefaultTimeout(20000);
  const close = async () => {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

async function shot(page, name) {
  fs.mkdirSync(env.shots, { recursive: true });
  const file = path.join(env.shots, name + '.png');
  await page.screenshot({ path: file });
  log('screenshot ' + file);
}

function log(message) { process.stdout.write('[e2e] ' + message + '\n'); }

function check(condition, message) {
  if (!condition) { throw new Error('check failed: ' + message); }
  log('ok: ' + message);
}

/** Signs in through the login form; returns the page on the overview. */
async function login(context, workspace, email, password) {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('console', (m) => { if (/Content Security Policy|Refused to/.test(m.text())) { problems.push(m.text()); } });
  page.problems = problems;
  await page.goto(env.base + '/console/login');
  await page.fill('input[name=workspace]', workspace);
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  return page;
}

/** Uploads a file on a knowledge base's page; resolves with the form's final state (ready or failed). */
async function upload(page, file) {
  await page.setInputFiles('#upload-file', file);
  await page.click('#upload-button');
  await page.waitForFunction(() => {
    const s = document.getElementById('upload-form').getAttribute('data-state');
    return s === 'ready' || s === 'failed';
  }, null, { timeout: 120000 });
  return page.getAttribute('#upload-form', 'data-state');
}

/** Runs the scenario; any failure prints its message and exits non-zero for the JUnit runner. */
function run(name, scenario) {
  const started = Date.now();
  scenario().then(() => {
    log(name + ' passed in ' + (Date.now() - started) + ' ms');
    process.exit(0);
  }, (err) => {
    process.stderr.write('[e2e] ' + name + ' FAILED: ' + (err && err.stack || err) + '\n');
    process.exit(1);
  });
}

module.exports = { env, launch, shot, log, check, login, run, hasWidgetApi, upload };
