// Lesson 06's chat page in a real browser: Debian's chromium, headless, driven by
// playwright-core (tests/browser/package.json; chat_browser.sh installs it).
//
//     NODE_PATH=.../node_modules node tests/chat_browser.js SERVER ARTIFACT_DIR
//
// SERVER is 06_chat_server; it runs on 127.0.0.1, port 0, with a fixed clock, English
// lines and the page of this source tree. Two pages join (A in English, B in Chinese),
// both see the enter events and "2 online"; A sends "hello" with Enter, B sends an HTML
// tag with the button, and both show it as text (no <img>, no dialog). Then the server
// stops (SIGTERM, status 0): both pages say they are disconnected and disable the input;
// a new server on the same port: both pages come back by themselves and chat again.
// Screenshots of A (360x640) and B go to ARTIFACT_DIR. Prints "ok STEP" for each step;
// the first failure prints "FAIL STEP: why" and exits 1. Every wait is bounded.
'use strict';

const { spawn } = require('child_process');
const path = require('path');
const { chromium } = require('playwright-core');

const CHROMIUM = '/usr/bin/chromium';
const CLOCK = '2016-08-29 00:00:00';
const STATIC = path.join(__dirname, '..', '06_websocket_chat', 'static');
const WAIT = 20000;             // one step (a loaded machine: the sanitizers' runs)
const RUN_TIMEOUT = 80000;      // the whole test
const XSS = '<img src=x onerror=alert(1)>';
const line = (tail) => `[127.0.0.1]-[${CLOCK}]-${tail}`;

let step = 'start';
let server = null;
let browser = null;

function fail(why) {
  console.log(`FAIL ${step}: ${why}`);
  if (server)
    server.child.kill('SIGKILL');
  process.exit(1);
}

function ok(name) {
  console.log(`ok ${name}`);
}

function withTimeout(promise, ms, what) {
  let timer;
  const expire = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, expire]).finally(() => clearTimeout(timer));
}

// Starts SERVER and resolves with { child, url, port } once it says where it listens.
function startServer(bin, port) {
  const child = spawn(bin, ['--address', '127.0.0.1', '--port', String(port), '--clock', CLOCK,
    '--lang', 'en', '--static', STATIC], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr.on('data', (d) => process.stderr.write(`server: ${d}`));
  const listening = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^listening on (http:\/\/[^ \n]+:(\d+)\/)$/m);
      if (m)
        resolve({ child, url: m[1], port: Number(m[2]) });
    });
    child.on('exit', (code, signal) => reject(new Error(`exited (${code ?? signal}) before listening: ${out}`)));
    child.on('error', reject);
  });
  return withTimeout(listening, WAIT, 'the server\'s "listening on" line');
}

function stopServer(s) {
  const exited = new Promise((resolve) => s.child.on('exit', (code, signal) => resolve(code ?? signal)));
  s.child.kill('SIGTERM');
  return withTimeout(exited, WAIT, 'the server\'s exit after SIGTERM');
}

async function openPage(url, locale, viewport, dialogs) {
  const context = await browser.newContext({ locale, viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => fail(`page error on the ${locale} page: ${e.message}`));
  await page.goto(url);
  return page;
}

const lines = (page) => page.$$eval('#messages li', (items) => items.map((li) => li.textContent));

// Waits until the page's list is exactly WANT; on timeout, says what it holds.
async function expectLines(page, name, want) {
  try {
    await page.waitForFunction((w) => {
      const got = [...document.querySelectorAll('#messages li')].map((li) => li.textContent);
      return JSON.stringify(got) === JSON.stringify(w);
    }, want);
  } catch {
    fail(`page ${name} shows ${JSON.stringify(await lines(page))}, wants ${JSON.stringify(want)}`);
  }
}

async function expectState(page, name, wantOnline, count) {
  try {
    await page.waitForFunction(([on, text]) => {
      const state = document.getElementById('status').dataset.state;
      const input = document.getElementById('text');
      return (state === 'online') === on && input.disabled === !on &&
        (text === null || document.getElementById('online').textContent === text);
    }, [wantOnline, count]);
  } catch {
    const seen = await page.evaluate(() => [document.getElementById('status').textContent,
      document.getElementById('online').textContent, document.getElementById('text').disabled]);
    fail(`page ${name}: status "${seen[0]}", count "${seen[1]}", input disabled ${seen[2]}`);
  }
}

async function main(bin, artifacts) {
  const dialogs = [];
  step = 'server';
  server = await startServer(bin, 0);
  ok(step);

  step = 'launch';
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, timeout: WAIT });
  ok(step);

  step = 'join';
  const a = await openPage(server.url, 'en-US', { width: 360, height: 640 }, dialogs);
  await expectLines(a, 'A', [line('entered the room')]);
  const b = await openPage(server.url, 'zh-CN', { width: 800, height: 600 }, dialogs);
  await expectLines(a, 'A', [line('entered the room'), line('entered the room')]);
  await expectLines(b, 'B', [line('entered the room')]);
  await expectState(a, 'A', true, '2 in the room');
  await expectState(b, 'B', true, '2 人在线');
  ok(step);

  step = 'labels';
  const labels = await Promise.all([a, b].map((p) => p.evaluate(() =>
    [document.documentElement.lang, document.getElementById('button').textContent])));
  if (JSON.stringify(labels) !== JSON.stringify([['en', 'Send'], ['zh', '发送']]))
    fail(`the labels are ${JSON.stringify(labels)}`);
  ok(step);

  step = 'enter sends';
  await a.fill('#text', 'hello');
  await a.press('#text', 'Enter');
  const hello = [line('entered the room'), line('says: hello')];
  await expectLines(a, 'A', [line('entered the room'), ...hello]);
  await expectLines(b, 'B', hello);
  if ((await a.inputValue('#text')) !== '')
    fail('the input still holds the message sent');
  ok(step);

  step = 'html as text';
  await b.fill('#text', XSS);
  await b.click('#button');
  const xss = [...hello, line(`says: ${XSS}`)];
  await expectLines(a, 'A', [line('entered the room'), ...xss]);
  await expectLines(b, 'B', xss);
  await b.waitForTimeout(300);  // an <img> that failed to load would have fired by now
  for (const [p, name] of [[a, 'A'], [b, 'B']]) {
    const imgs = await p.$$eval('#messages img', (found) => found.length);
    if (imgs !== 0)
      fail(`page ${name}'s list holds ${imgs} <img> elements`);
  }
  if (dialogs.length)
    fail(`dialogs fired: ${JSON.stringify(dialogs)}`);
  ok(step);

  step = 'server stops';
  const code = await stopServer(server);
  if (code !== 0)
    fail(`the server exited with ${code}, not 0`);
  await expectState(a, 'A', false, '');
  await expectState(b, 'B', false, '');
  ok(step);

  step = 'reconnect';
  server = await startServer(bin, server.port);
  await expectState(a, 'A', true, null);
  await expectState(b, 'B', true, null);
  await expectState(a, 'A', true, '2 in the room');
  await expectState(b, 'B', true, '2 人在线');
  ok(step);

  step = 'chat again';
  await a.fill('#text', 'again');
  await a.press('#text', 'Enter');
  for (const [p, name] of [[a, 'A'], [b, 'B']]) {
    try {
      await p.waitForFunction((want) => {
        const last = document.querySelector('#messages li:last-child');
        return last !== null && last.textContent === want;
      }, line('says: again'));
    } catch {
      fail(`page ${name} ends with ${JSON.stringify((await lines(p)).slice(-3))}`);
    }
  }
  ok(step);

  step = 'screenshots';
  await a.screenshot({ path: path.join(artifacts, 'chat_browser.png') });
  await b.screenshot({ path: path.join(artifacts, 'chat_browser.zh.png') });
  ok(step);

  step = 'stop';
  await browser.close();
  const last = await stopServer(server);
  server = null;
  if (last !== 0)
    fail(`the server exited with ${last}, not 0`);
  ok(step);
}

if (process.argv.length !== 4) {
  console.error('usage: node chat_browser.js SERVER ARTIFACT_DIR');
  process.exit(2);
}
setTimeout(() => fail(`the whole run took over ${RUN_TIMEOUT} ms`), RUN_TIMEOUT).unref();
main(process.argv[2], process.argv[3]).then(
  () => process.exit(0),
  (e) => fail(e.message));
