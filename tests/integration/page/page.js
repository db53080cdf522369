// Drives Debian's chromium, headless, through vodhook's status page with
// puppeteer-core, for tests/integration/test_052_page.py.
//
//   node page.js SCENARIO CONFIG_JSON
//
// CONFIG_JSON: {"base": "http://127.0.0.1:PORT", "token": "...",
// "artifacts": "/dir", ...the scenario's own fields}. Prints one JSON line:
// what the page showed, for the Python test to assert on; screenshots go to
// the artifacts directory. Exits 1 on an error (a selector that never came).
'use strict';
const fs = require('fs');
const path = require('path');
const puppeteer = require('puppeteer-core');

const [scenario, configText] = process.argv.slice(2);
const cfg = JSON.parse(configText);
const WAIT = (parseFloat(process.env.VH_TEST_WAIT) || 30) * 1000;

function browserPath() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  // Debian's /usr/bin/chromium is a shell wrapper; the program itself is here.
  for (const p of ['/usr/lib/chromium/chromium', '/usr/bin/chromium']) if (fs.existsSync(p)) return p;
  throw new Error('chromium not found: deploy/deps.sh --test installs it');
}

async function launch() {
  const args = ['--disable-gpu', '--no-first-run', '--no-default-browser-check', '--disable-dev-shm-usage'];
  // Chromium refuses to start as root with its sandbox on (CI runs the
  // suite as root in a container); as any other user the sandbox stays.
  if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
  return puppeteer.launch({ executablePath: browserPath(), headless: true, args,
    defaultViewport: { width: 1200, height: 800 } });
}

async function open(browser, theme) {
  const page = await browser.newPage();
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: theme || 'light' }]);
  const problems = [];
  // A Content-Security-Policy violation or a script error fails the test.
  // A failed request is reported by its address and status instead of the
  // console's "Failed to load resource", which names neither.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(r.status() + ' ' + new URL(r.url()).pathname);
  });
  await page.goto(cfg.base + '/', { waitUntil: 'load' });
  // Set in the page's own JavaScript world: gone if the page reloads.
  await page.evaluate(() => { window.vhMarker = 'no reload'; });
  return { page, problems };
}

async function shot(page, name) {
  fs.mkdirSync(cfg.artifacts, { recursive: true });
  const file = path.join(cfg.artifacts, name + '.png');
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

async function login(page, token) {
  await page.waitForSelector('#token', { visible: true, timeout: WAIT });
  await page.type('#token', token);
  await page.keyboard.press('Enter');
}

async function waitText(page, selector, re) {
  await page.waitForFunction((s, r) => {
    const e = document.querySelector(s);
    return e && new RegExp(r).test(e.textContent);
  }, { timeout: WAIT, polling: 50 }, selector, re);
}

async function go(page, hash) {
  await page.evaluate((h) => { location.hash = h; }, hash);
}

// A wrong token: an error, and nothing else.
async function wrongToken(browser) {
  const { page, problems } = await open(browser);
  await login(page, cfg.token + '-wrong');
  await waitText(page, '#login-error', 'refused');
  const out = await page.evaluate(() => ({
    error: document.querySelector('#login-error').textContent,
    navHidden: document.querySelector('#nav').hidden,
    visibleViews: [...document.querySelectorAll('.view')].filter((v) => !v.hidden).map((v) => v.id),
    dataRows: document.querySelectorAll('.view tbody tr:not(:has(.muted)), #up-running li').length,
    stored: sessionStorage.getItem('vodhook.token'),
    url: location.href,
  }));
  out.screenshot = await shot(page, 'login-refused');
  out.problems = problems;
  return out;
}

// Record, in the page, every value the bar of the running upload shows
// (the test runs one at a time), from a MutationObserver: the page
// re-renders the card on each change.
async function recordProgress(page) {
  await page.evaluate(() => {
    window.vhProgress = [];
    const look = () => {
      const li = document.querySelector('#up-running li');
      const seen = window.vhProgress;
      if (!li) {
        if (seen.length && !seen[seen.length - 1].gone) seen.push({ gone: true });
        return;
      }
      const v = { id: li.dataset.uploadId, value: Number(li.querySelector('progress').value),
        state: li.dataset.state, text: li.textContent };
      if (!seen.length || seen[seen.length - 1].value !== v.value) seen.push(v);
    };
    new MutationObserver(look).observe(document.querySelector('#up-running'), { childList: true, subtree: true });
  });
}

// Wait for the bar to pass the middle (screenshot), then for the upload to
// leave the running list; the values it showed.
async function watchUpload(page) {
  await page.waitForFunction(() => window.vhProgress.some((v) => v.value > 10 && v.value < 90),
    { timeout: 4 * WAIT, polling: 'mutation' });
  const shotTaken = await shot(page, 'uploads');
  await page.waitForFunction(() => window.vhProgress.some((v) => v.gone), { timeout: 4 * WAIT, polling: 'mutation' });
  const seen = await page.evaluate(() => window.vhProgress.filter((v) => !v.gone));
  return { seen, shotTaken };
}

// Queue an upload with the page open, watch its bar and its media reach ready.
async function upload(browser) {
  const { page, problems } = await open(browser);
  await login(page, cfg.token);
  await page.waitForSelector('#nav:not([hidden])', { timeout: WAIT });
  await go(page, 'uploads');
  await page.waitForSelector('#view-uploads:not([hidden])', { timeout: WAIT });
  // Subscribed: the stream's snapshot has come (event: synced).
  await waitText(page, '#conn', '^live$');
  await recordProgress(page);
  const res = await fetch(cfg.base + '/v1/uploads', { method: 'POST', body: JSON.stringify(cfg.upload),
    headers: { Authorization: 'Bearer ' + cfg.token, 'Content-Type': 'application/json' } });
  const job = await res.json();
  if (res.status !== 202) throw new Error('POST /v1/uploads: ' + res.status + ' ' + JSON.stringify(job));
  const watched = await watchUpload(page);
  if (watched.seen.some((v) => v.id !== job.id)) throw new Error('another upload ran: ' + JSON.stringify(watched.seen));
  // The finished upload links to its media; follow the link as a person would.
  const link = '#up-done tr[data-upload-id="' + job.id + '"] a';
  await page.waitForSelector(link, { timeout: WAIT });
  await page.evaluate((sel) => document.querySelector(sel).click(), link);
  await page.waitForSelector('#view-detail:not([hidden])', { timeout: WAIT });
  await page.waitForSelector('#md-facts [data-state="ready"]', { timeout: 2 * WAIT });
  const detail = await page.evaluate(() => ({
    timeline: [...document.querySelectorAll('#md-timeline li')].map((li) => li.dataset.state),
    marker: window.vhMarker,
    fileId: document.querySelector('#h-detail').textContent,
  }));
  const shots = { uploads: watched.shotTaken, detail: await shot(page, 'media-detail') };
  await go(page, 'media');
  await page.waitForSelector('#media-list tbody tr[data-file-id]', { timeout: WAIT });
  shots.media = await shot(page, 'media');
  await go(page, 'failures');
  await page.waitForSelector('#fl-callbacks tbody tr', { timeout: WAIT });
  await waitText(page, '#fl-callbacks tbody', cfg.rejectedReason || '.');
  shots.failures = await shot(page, 'failures');
  const failures = await page.evaluate(() => document.querySelector('#fl-callbacks tbody').textContent);
  await go(page, 'overview');
  await waitText(page, '#ov-media td[data-provider="tencent"][data-state="ready"]', '[1-9]');
  await waitText(page, '#ov-running', '^0$');
  shots.overview = await shot(page, 'status-page');
  const overview = await page.evaluate(() => ({
    ready: document.querySelector('#ov-media td[data-provider="tencent"][data-state="ready"]').textContent,
    db: document.querySelector('#ov-db').textContent,
    callbacks: document.querySelector('#ov-callbacks').textContent,
  }));
  // A new tab: its sessionStorage is its own, so it asks for the token.
  const dark = await open(browser, 'dark');
  await login(dark.page, cfg.token);
  await waitText(dark.page, '#ov-db', 'ready');
  shots.overviewDark = await shot(dark.page, 'overview-dark');
  return { job: job.id, progress: watched.seen, detail, failures, overview, shots,
    marker: await page.evaluate(() => window.vhMarker), problems: problems.concat(dark.problems) };
}

// The lifecycle of one media, as the page orders it.
async function timeline(browser) {
  const { page, problems } = await open(browser);
  await login(page, cfg.token);
  await page.waitForSelector('#nav:not([hidden])', { timeout: WAIT });
  await go(page, 'media/' + cfg.provider + '/' + encodeURIComponent(cfg.file_id));
  await page.waitForSelector('#md-timeline li[data-state]', { timeout: WAIT });
  await page.waitForSelector('#md-events li', { timeout: WAIT });
  const out = await page.evaluate(() => ({
    timeline: [...document.querySelectorAll('#md-timeline li')].map((li) => ({ state: li.dataset.state,
      time: li.dataset.time, text: li.textContent })),
    events: [...document.querySelectorAll('#md-events li')].map((li) => ({ type: li.dataset.eventType,
      time: li.dataset.time, text: li.textContent })),
  }));
  out.screenshot = await shot(page, 'timeline');
  // Addresses made to reach other paths of the API with the token.
  const asked = [];
  page.on('request', (r) => asked.push(new URL(r.url()).pathname));
  for (const hash of ['media/../x', 'media/tencent/..', 'media/..%2F..%2Fv1%2Fsummary/x']) {
    await go(page, hash);
    await waitText(page, '#md-facts', 'Not found');
    await page.evaluate(() => document.querySelector('#md-facts').replaceChildren());
  }
  out.asked = asked;
  out.problems = problems;
  return out;
}

// What Tab reaches, as "tag#id" or "tag:label", from a fresh page.
async function tabThrough(page, n) {
  const reached = [];
  for (let i = 0; i < n; i++) {
    await page.keyboard.press('Tab');
    reached.push(await page.evaluate(() => {
      const e = document.activeElement;
      return e.tagName.toLowerCase() + (e.id ? '#' + e.id : ':' + (e.getAttribute('aria-label') || e.textContent.trim()));
    }));
  }
  return reached;
}

async function keyboard(browser) {
  const { page, problems } = await open(browser);
  await page.waitForSelector('#token', { visible: true, timeout: WAIT });
  const before = await tabThrough(page, 4);
  await page.evaluate(() => document.activeElement.blur());
  await page.focus('#token');
  await page.keyboard.type(cfg.token);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#nav:not([hidden])', { timeout: WAIT });
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  const after = await tabThrough(page, 8);
  // Activate "Media" from the keyboard alone.
  await page.focus('#nav-media');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#view-media:not([hidden])', { timeout: WAIT });
  await page.focus('#nav-failures');
  const inMedia = await tabThrough(page, 10);
  return { before, after, inMedia, hash: await page.evaluate(() => location.hash), problems };
}

// Cancel a running upload from the keyboard; it ends canceled.
async function cancel(browser) {
  const { page, problems } = await open(browser);
  await login(page, cfg.token);
  await page.waitForSelector('#nav:not([hidden])', { timeout: WAIT });
  await go(page, 'uploads');
  await waitText(page, '#conn', '^live$');
  const res = await fetch(cfg.base + '/v1/uploads', { method: 'POST', body: JSON.stringify(cfg.upload),
    headers: { Authorization: 'Bearer ' + cfg.token, 'Content-Type': 'application/json' } });
  const job = await res.json();
  const button = '#up-running li[data-upload-id="' + job.id + '"][data-state="uploading"] button.cancel';
  await page.waitForSelector(button, { timeout: 2 * WAIT });
  await page.focus(button);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#up-done tr[data-upload-id="' + job.id + '"] [data-state="canceled"]',
    { timeout: 2 * WAIT });
  return { job: job.id, problems };
}

// Webhook trouble: a failed message and disabled subscriptions in the
// failures view, with their reasons; their counts in the overview; the
// message resent from the keyboard.
async function webhooks(browser) {
  const { page, problems } = await open(browser);
  await login(page, cfg.token);
  await page.waitForSelector('#nav:not([hidden])', { timeout: WAIT });
  await go(page, 'failures');
  const row = '#fl-webhooks tr[data-message-id="' + cfg.message + '"]';
  await waitText(page, row, 'HTTP status 500');
  const disabled = (id) => '#fl-disabled tr[data-webhook-id="' + id + '"]';
  await waitText(page, disabled(cfg.subscriptions.stopped), 'disabled through the API');
  await waitText(page, disabled(cfg.subscriptions['gave-up']), 'every delivery failed since');
  const out = await page.evaluate((sel) => {
    const r = document.querySelector(sel);
    const link = r.querySelector('a');
    return {
      message: { text: r.textContent, subscription: r.dataset.webhookId, link: link && link.getAttribute('href'),
        attempts: r.querySelector('[data-attempts]').textContent },
      disabled: Object.fromEntries([...document.querySelectorAll('#fl-disabled tr[data-webhook-id]')]
        .map((d) => [d.dataset.webhookId, d.textContent])),
    };
  }, row);
  const shots = { failures: await shot(page, 'failures-webhooks') };
  await go(page, 'overview');
  await waitText(page, '#ov-webhooks', 'disabled');
  await waitText(page, '#ov-webhook-messages', 'failed');
  out.overview = await page.evaluate(() => ({
    subscriptions: document.querySelector('#ov-webhooks').textContent,
    messages: document.querySelector('#ov-webhook-messages').textContent,
  }));
  shots.overview = await shot(page, 'overview-webhooks');
  // Resend from the keyboard, in the dark theme.
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
  await go(page, 'failures');
  const button = row + ' button.resend';
  await page.waitForSelector(button, { timeout: WAIT });
  await page.focus(button);
  await page.keyboard.press('Enter');
  await waitText(page, '#conn', 'resent');
  out.resent = await page.evaluate(() => document.querySelector('#conn').textContent);
  shots.failuresDark = await shot(page, 'failures-webhooks-dark');
  out.shots = shots;
  out.problems = problems;
  return out;
}

// The stream is lost and comes back: the page says so, reconnects by
// itself and shows what the snapshot brings. Prints "live" once
// subscribed, for the test to stop and start vodhook.
async function reconnect(browser) {
  const { page, problems } = await open(browser);
  await login(page, cfg.token);
  await page.waitForSelector('#nav:not([hidden])', { timeout: WAIT });
  await go(page, 'uploads');
  await waitText(page, '#conn', '^live$');
  process.stdout.write('live\n');
  await waitText(page, '#conn', 'disconnected');
  const away = await page.evaluate(() => document.querySelector('#conn').textContent);
  await page.waitForFunction(() => document.querySelector('#conn').textContent === 'live',
    { timeout: 4 * WAIT, polling: 'mutation' });
  await page.waitForSelector('#up-running li[data-upload-id="' + cfg.upload_id + '"]', { timeout: WAIT });
  return { away, marker: await page.evaluate(() => window.vhMarker),
    // Refused connections while vodhook was away are the point of the test.
    problems: problems.filter((p) => !/ERR_CONNECTION_REFUSED/.test(p)) };
}

(async () => {
  const browser = await launch();
  let out;
  try {
    const run = { 'wrong-token': wrongToken, upload, timeline, keyboard, cancel, reconnect, webhooks }[scenario];
    if (!run) throw new Error('unknown scenario ' + scenario);
    out = await run(browser);
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
})().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
