// The web console in a real browser: starts the demo server (gateway on a
// free loopback port, a budget that a few questions use up), drives Debian's
// chromium headless with playwright-core, and checks what a practice manager
// sees: a refused key, sign in, a question with its chart and table, a
// follow-up in the same session, the session list, the budget gauge, and the
// message once the budget is used up. Screenshots go to docs/console-*.png.
//
//   node console.test.mjs <vet-analytics-server> <fake-openai-server> [<repo root>]
// Exits non-zero on any failure (and when chromium or the server is missing).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const serverBin = process.argv[2];
const fakeModelBin = process.argv[3];
const repo = resolve(process.argv[4] || join(import.meta.dirname, '..', '..'));
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
// The screenshots in docs/ are refreshed on purpose
// (VET_SCREENSHOTS_DIR=docs); an ordinary run keeps its own in a temporary
// folder, so running the tests leaves the checkout as it was.
const shots = process.env.VET_SCREENSHOTS_DIR || mkdtempSync(join(tmpdir(), 'vet-console-shots-'));

function fail(message) {
  console.error(`web console test: FAILED: ${message}`);
  process.exitCode = 1;
  throw new Error(message);
}
if (!serverBin || !existsSync(serverBin)) fail(`no server binary at '${serverBin}'`);
if (!fakeModelBin || !existsSync(fakeModelBin)) fail(`no fake model server at '${fakeModelBin}'`);
if (!existsSync(chromiumPath)) fail(`no chromium at ${chromiumPath}: apt-get install chromium (scripts/install-deps.sh)`);

const stateDir = mkdtempSync(join(tmpdir(), 'vet-web-'));
// The offline planner answers what it understands for free, even past the
// cap; anything else goes to the (fake) model, whose worst case passes this
// tiny budget: that question is refused, as a practice past its cap sees it.
const fakeModel = spawn(fakeModelBin, ['--delay=10ms'], { stdio: ['ignore', 'pipe', 'ignore'] });
const modelPort = await new Promise((resolvePort, reject) => {
  let out = '';
  const timer = setTimeout(() => reject(new Error('the fake model did not start')), 30000);
  fakeModel.stdout.on('data', (chunk) => {
    out += chunk;
    const m = /listening on (\d+)/.exec(out);
    if (m) { clearTimeout(timer); resolvePort(Number(m[1])); }
  });
});
const server = spawn(serverBin, [
  '--demo', '--demo_invoice_lines=20000', `--state_dir=${stateDir}`,
  '--listen=127.0.0.1:0', '--metrics_listen=', '--http_listen=127.0.0.1:0',
  `--openai_base_url=http://127.0.0.1:${modelPort}/v1`, '--budget_limit=0.02',
], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OPENAI_API_KEY: '' } });
let serverLog = '';
const port = await new Promise((resolvePort, reject) => {
  const timer = setTimeout(() => reject(new Error(`the server did not start:\n${serverLog}`)), 120000);
  server.stderr.on('data', (chunk) => {
    serverLog += chunk;
    const m = /web console on http:\/\/127\.0\.0\.1:(\d+)\//.exec(serverLog);
    if (m) { clearTimeout(timer); resolvePort(Number(m[1])); }
  });
  server.on('exit', (code) => reject(new Error(`the server exited (${code}):\n${serverLog}`)));
});
const base = `http://127.0.0.1:${port}`;

let browser;
let step = 'start';
try {
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true,
                                    args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  // A tablet in landscape.
  const page = await browser.newPage({ viewport: { width: 1024, height: 900 } });
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  const expectText = async (locator, pattern, what) => {
    // Waits for the text: the page fills in as answers arrive.
    try {
      await locator.filter({ hasText: pattern }).first().waitFor({ state: 'visible', timeout: 60000 });
    } catch (e) {
      const text = await locator.first().innerText().catch(() => '(absent)');
      fail(`${what}: '${text}' does not match ${pattern}`);
    }
  };

  step = 'a wrong key is refused with a clear message';
  await page.goto(base);
  await page.getByLabel('Practice id').fill('demo');
  await page.getByLabel('API key').fill('not-the-key');
  await page.keyboard.press('Enter');
  await expectText(page.locator('#sign-in-error'), /API key was not accepted/, step);
  if (page.url().includes('key')) fail('the key appeared in the URL');

  step = 'sign in';
  await page.getByLabel('API key').fill('demo-key');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('#app').waitFor({ state: 'visible' });
  await expectText(page.locator('#budget'), /Resets/, 'the budget gauge');
  if (await page.evaluate(() => localStorage.length) !== 0) fail('something was kept in localStorage');
  if (await page.evaluate(() => sessionStorage.getItem('vet.key')) !== 'demo-key') fail('the key is not in sessionStorage');
  await page.screenshot({ path: join(shots, 'console-signed-in.png'), fullPage: true });

  step = 'ask a suggested question: chart, table, explanation';
  await page.getByRole('button', { name: 'What was our revenue trend last quarter?' }).click();
  // The suggestion filled the box and focused it: Enter asks (keyboard only).
  await page.keyboard.press('Enter');
  const first = page.locator('.turn').nth(0);
  await first.locator('img.chart').waitFor({ timeout: 60000 });
  await expectText(first.locator('.answer').first(), /Revenue last quarter/, 'the answer');
  if (await first.locator('table tbody tr').count() < 3) fail('the table has fewer than 3 rows');
  await expectText(first.locator('.progress'), /Budget check: allowed/, 'the budget check');
  // The code is folded until asked for.
  if (await first.locator('.progress details').first().getAttribute('open') !== null) fail('the code is not folded');
  const chartWidth = await first.locator('img.chart').evaluate((img) => img.naturalWidth);
  if (!(chartWidth > 100)) fail(`the chart did not decode (width ${chartWidth})`);
  await expectText(first.locator('.explanation'), /Definition/, 'the explanation');
  await page.screenshot({ path: join(shots, 'console-answer.png'), fullPage: true });

  step = 'follow up in the same session';
  await page.getByLabel('Your question').fill('And by vet?');
  await page.getByRole('button', { name: 'Ask', exact: true }).click();
  const second = page.locator('.turn').nth(1);
  await second.locator('table').waitFor({ timeout: 60000 });
  await expectText(second.locator('.progress'), /Follow-up \(question 2\)/, 'the follow-up');
  await expectText(page.locator('#sessions li.current'), /current/, 'the session list');
  await page.screenshot({ path: join(shots, 'console-follow-up.png'), fullPage: true });

  step = 'the session history';
  await page.locator('#sessions li.current button').click();
  await expectText(page.locator('#turns'), /And by vet\?/, 'the history');

  step = 'ask until the budget refuses, and see why';
  let refused = false;
  for (let i = 0; i < 25 && !refused; i++) {
    await page.getByLabel('Your question').fill('Write a limerick about our busiest receptionist');
    await page.getByRole('button', { name: 'Ask', exact: true }).click();
    // (The page's Content-Security-Policy forbids eval, so no waitForFunction.)
    await page.locator('#ask:not([disabled])').waitFor({ timeout: 60000 });
    refused = await page.locator('#error').isVisible();
  }
  if (!refused) {
    await page.screenshot({ path: join(tmpdir(), 'vet-console-no-refusal.png'), fullPage: true });
    fail(`the budget never refused a question (${await page.locator('.turn').count()} turns; see ${tmpdir()}/vet-console-no-refusal.png)`);
  }
  await expectText(page.locator('#error'), /budget for this period is used up[\s\S]*RESOURCE_EXHAUSTED/, 'the budget message');
  await expectText(page.locator('.turn').last().locator('.progress'), /Budget check: refused/, 'the refused budget check');
  await expectText(page.locator('#budget'), /Spent/, 'the gauge after the cap');
  await page.locator('#error').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(shots, 'console-budget.png'), fullPage: false });

  step = 'the browser reported no errors';
  const unexpected = consoleErrors.filter((e) => !/the server responded with a status of 401/.test(e));
  if (unexpected.length) fail(`browser console errors: ${unexpected.join(' | ')}`);
  console.log('web console test: passed');
} catch (e) {
  console.error(`web console test: FAILED at step '${step}': ${e.message}`);
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  fakeModel.kill('SIGTERM');
  rmSync(stateDir, { recursive: true, force: true });
}
