// Headless Chromium that logs in on the local OIDC issuer's real pages, for
// gitsign's end-to-end tests. TEST STACK ONLY.
//
// It is used as gitsign's URL opener (GITSIGN_URL_OPENER='node login.mjs
// [flags] {{.URL}}') for the authorization-code flow, or run by a test to
// approve a device-flow code. It drives Debian's /usr/bin/chromium through
// playwright-core: fills the dev login form, clicks through consent, and
// lets the browser follow the redirect to gitsign's callback.
//
// usage: node login.mjs [flags] URL
//   --user NAME          login name (default alice → alice@example.test)
//   --device CODE        URL is a device verification URI: enter CODE there
//   --deny               refuse at the consent (or device confirm) page
//   --set-param K=V      rewrite query parameter K of URL before opening it
//                        (repeatable; e.g. nonce=x to get an ID token with a
//                        nonce gitsign did not send)
//   --callback MODE      what reaches gitsign's loopback callback:
//                          follow      the browser follows the redirect (default)
//                          hold        nothing: the callback never comes
//                          wrong-state the callback, with a state gitsign did not send
//                          stray-first what another local program could send first (the
//                                      callback with a forged state, then with none,
//                                      then a request for /favicon.ico), then the
//                                      genuine callback
//                          replay=FILE the code saved in FILE, with this login's state
//   --save-code FILE     write the authorization code the issuer returned
//   --report FILE        write a JSON report of what happened
//   --profile DIR        Chromium user data dir (default: a new temp dir)
//   --timeout SECONDS    give up after this long (default 60)
//   --chatter            print a line on stdout first, as some browsers do
//                        ("Opening in existing browser session."); gitsign
//                        must keep it off its own stdout (gitsign#741)
//
// Exit status 0 when the flow reached its end (callback page, device
// success page), 1 otherwise. Progress goes to stderr, which gitsign sends
// to the terminal, never to its stdout.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

// gitsign may exit (closing our stderr) before we do.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

const log = (msg) => process.stderr.write(`browser-login: ${msg}\n`);

function parseArgs(argv) {
  const o = { user: 'alice', callback: 'follow', setParams: [], timeout: 60 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--user': o.user = val(); break;
      case '--device': o.device = val(); break;
      case '--deny': o.deny = true; break;
      case '--set-param': o.setParams.push(val()); break;
      case '--callback': o.callback = val(); break;
      case '--save-code': o.saveCode = val(); break;
      case '--report': o.report = val(); break;
      case '--profile': o.profile = val(); break;
      case '--timeout': o.timeout = Number(val()); break;
      case '--chatter': o.chatter = true; break;
      default:
        if (a.startsWith('--')) throw new Error(`unknown flag ${a}`);
        if (o.url) throw new Error('only one URL');
        o.url = a;
    }
  }
  if (!o.url) throw new Error('no URL');
  if (!/^(follow|hold|wrong-state|stray-first|replay=.+)$/.test(o.callback)) throw new Error(`bad --callback ${o.callback}`);
  return o;
}

const opts = parseArgs(process.argv.slice(2));
if (opts.chatter) process.stdout.write('Opening in existing browser session.\n');
const report = { mode: opts.device ? 'device' : 'code', callback: opts.callback, steps: [] };
const step = (s) => { report.steps.push(s); log(s); };

let target = new URL(opts.url);
for (const kv of opts.setParams) {
  const eq = kv.indexOf('=');
  target.searchParams.set(kv.slice(0, eq), kv.slice(eq + 1));
  step(`rewrote ${kv.slice(0, eq)}`);
}
const redirect = opts.device ? null : new URL(target.searchParams.get('redirect_uri'));
const isCallback = (u) => redirect && u.startsWith(redirect.origin + redirect.pathname);

const profile = opts.profile || mkdtempSync(join(tmpdir(), 'gitsign-browser-'));
let browser;
let ok = false;
const deadline = setTimeout(() => {
  log(`gave up after ${opts.timeout}s`);
  finish(1);
}, opts.timeout * 1000);

async function finish(code) {
  clearTimeout(deadline);
  report.ok = code === 0;
  if (opts.report) writeFileSync(opts.report, JSON.stringify(report, null, 2));
  try { await browser?.close(); } catch { /* already gone */ }
  if (!opts.profile) rmSync(profile, { recursive: true, force: true });
  process.exit(code);
}

// Fetches u and returns its status and its page as plain text.
async function fetchPage(u) {
  const resp = await fetch(u, { redirect: 'manual' });
  const body = (await resp.text()).replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return { status: resp.status, body };
}

// Sends the callback gitsign's listener receives when the browser does not.
async function deliver(callbackURL) {
  const u = new URL(callbackURL);
  // The redirect URI says localhost; gitsign listens on 127.0.0.1.
  u.hostname = '127.0.0.1';
  if (opts.callback === 'wrong-state') {
    u.searchParams.set('state', 'forged-' + u.searchParams.get('state'));
  } else if (opts.callback.startsWith('replay=')) {
    u.searchParams.set('code', readFileSync(opts.callback.slice(7), 'utf8').trim());
  } else if (opts.callback === 'stray-first') {
    const forged = new URL(u);
    forged.searchParams.set('state', 'forged-' + u.searchParams.get('state'));
    const none = new URL(u);
    none.searchParams.delete('state');
    const favicon = new URL(u);
    favicon.pathname = '/favicon.ico';
    favicon.search = '';
    report.strays = [];
    for (const [what, s] of [['forged state', forged], ['no state', none], ['favicon', favicon]]) {
      const page = await fetchPage(s);
      report.strays.push({ what, ...page });
      step(`delivered a stray request (${what}): HTTP ${page.status}`);
    }
  }
  const page = await fetchPage(u);
  report.callbackStatus = page.status;
  report.callbackBody = page.body;
  step(`delivered ${opts.callback} callback: HTTP ${page.status}`);
}

try {
  // A fresh profile each time; the flags are those known to work here.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const context = browser;
  // Only the issuer and gitsign's loopback callback; the dev pages' web
  // fonts would be looked up on the internet otherwise.
  const issuerOrigin = target.origin;
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.origin === issuerOrigin || u.hostname === '127.0.0.1' || u.hostname === 'localhost') return route.continue();
    return route.abort();
  });
  const page = context.pages()[0] || await context.newPage();

  // The callback is the last hop of a redirect chain, which routes do not
  // see; requests do. Unless the browser may follow it, its request is
  // aborted at the network layer (CDP Fetch) and handled by deliver().
  let callbackURL = null;
  let seen;
  const callbackSeen = new Promise((resolve) => { seen = resolve; });
  page.on('request', (req) => {
    if (isCallback(req.url()) && !callbackURL) {
      callbackURL = req.url();
      const code = new URL(callbackURL).searchParams.get('code');
      if (opts.saveCode && code) writeFileSync(opts.saveCode, code + '\n');
      report.gotCode = Boolean(code);
      seen();
    }
  });
  if (redirect && opts.callback !== 'follow') {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Fetch.enable', {
      patterns: [{ urlPattern: `${redirect.protocol}//${redirect.host}${redirect.pathname}*`, requestStage: 'Request' }],
    });
    cdp.on('Fetch.requestPaused', (e) => {
      if (!callbackURL) { callbackURL = e.request.url; report.gotCode = /[?&]code=/.test(callbackURL); seen(); }
      cdp.send('Fetch.failRequest', { requestId: e.requestId, errorReason: 'BlockedByClient' }).catch(() => {});
    });
  }

  step(`open ${target.origin}${target.pathname}`);
  await page.goto(target.toString()).catch((e) => step(`navigation: ${e.message.split('\n')[0]}`));

  // Walk the issuer's pages until the flow ends.
  for (let i = 0; i < 12; i++) {
    if (callbackURL) break;
    await page.waitForLoadState('domcontentloaded').catch(() => {});
    const confirm = page.locator('form#op\\.deviceConfirmForm');
    if (await confirm.count()) {
      if (opts.deny) {
        step('abort the device login');
        await Promise.all([page.waitForNavigation().catch(() => {}), page.click('button[name=abort]')]);
        report.aborted = true;
        break;
      } else {
        step('confirm the device');
        await Promise.all([page.waitForNavigation().catch(() => {}), page.click('button[autofocus]')]);
      }
      continue;
    }
    if (opts.device && await page.locator('input[type=text][name=user_code]').count()) {
      step('enter the device code');
      await page.fill('input[type=text][name=user_code]', opts.device);
      await Promise.all([page.waitForNavigation().catch(() => {}), page.click('[type=submit]')]);
      continue;
    }
    if (await page.locator('input[name=login]').count()) {
      step(`log in as ${opts.user}`);
      await page.fill('input[name=login]', opts.user);
      await page.fill('input[name=password]', 'any-password');
      await Promise.all([page.waitForNavigation().catch(() => {}), page.click('[type=submit]')]);
      continue;
    }
    const consent = page.locator('input[name=prompt][value=consent]');
    if (await consent.count()) {
      if (opts.deny) {
        step('deny consent');
        await Promise.all([page.waitForNavigation().catch(() => {}), page.click('a[href$="/abort"], button:has-text("Cancel")')]);
      } else {
        step('consent');
        await Promise.all([page.waitForNavigation().catch(() => {}), page.click('[type=submit]')]);
      }
      continue;
    }
    break;
  }

  if (opts.device) {
    const text = (await page.locator('body').innerText().catch(() => '')).replace(/\s+/g, ' ').trim();
    report.finalText = text.slice(0, 300);
    step(`device page says: ${report.finalText}`);
    ok = opts.deny ? Boolean(report.aborted) : /success/i.test(text);
  } else {
    await Promise.race([callbackSeen, new Promise((r) => setTimeout(r, 10000))]);
    if (!callbackURL) {
      report.finalText = (await page.locator('body').innerText().catch(() => '')).slice(0, 300);
      throw new Error(`never redirected to the callback; page says: ${report.finalText}`);
    }
    step('issuer redirected to the callback');
    if (opts.callback === 'follow') {
      // gitsign answers once it has checked the token.
      await page.waitForURL((u) => isCallback(u.toString()), { timeout: 30000 });
      await page.waitForLoadState('domcontentloaded');
      report.callbackTitle = await page.title();
      report.callbackBody = (await page.locator('body').innerText()).replace(/\s+/g, ' ').trim();
      step(`callback page: ${report.callbackTitle}`);
    } else if (opts.callback !== 'hold') {
      await deliver(callbackURL);
    } else {
      step('holding the callback back');
    }
    ok = true;
  }
} catch (e) {
  report.error = String(e.message || e).split('\n')[0];
  log(`error: ${report.error}`);
}
await finish(ok ? 0 : 1);
