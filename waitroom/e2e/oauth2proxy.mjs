// The oauth2-proxy guide, run in Chromium (see oauth2proxy_test.go, which
// starts waitroom and oauth2-proxy with the guide's settings and sets the
// WR_* environment): a visitor opens the protected app, waits in the room
// until the admin lets them in, reaches the app, survives a session
// refresh, signs out, and the waitroom session has ended. Exits non-zero on
// any failure or console error.
import { Visitor, assert, env, launch, position, screenshot, waitForState } from './lib.mjs';

const app = process.env.WR_PROXY_URL;
const started = Date.now();
const log = (...a) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s]`, ...a);

async function admin(method, path, body) {
  const res = await fetch(env.adminURL + path, {
    method,
    headers: { Authorization: `Bearer ${env.adminKey}`, 'Content-Type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  assert(res.ok, `${method} ${path}: ${res.status}`);
  return res.json();
}
const counters = () => admin('GET', `/v1/rooms/${env.room}/counters`);

// upstream reads the JSON the test's upstream echoes (the headers
// oauth2-proxy passed).
async function upstream(page) {
  const text = await page.locator('body').innerText();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`not the upstream app at ${page.url()}: ${text.slice(0, 300)}`);
  }
}

const browser = await launch();
const visitor = await Visitor.create(browser, 'visitor', { locale: 'en-GB' });
const errors = [];
try {
  const page = await visitor.page();

  // 1. The protected app sends the visitor straight to the room
  //    (--skip-provider-button), where they wait.
  await page.goto(`${app}/private`);
  await page.waitForURL(/\/login\/[^/]+$/, { timeout: 15000 });
  assert(page.url().startsWith(env.publicURL), `not on waitroom: ${page.url()}`);
  await waitForState(page, 'waiting');
  const mine = await position(page);
  log('in the room at position', mine);
  await page.waitForTimeout(3000);
  await waitForState(page, 'waiting', 1000);
  assert(page.url().startsWith(env.publicURL), 'left the room before being admitted');
  await screenshot(page, 'oauth2-proxy-waiting');

  // 2. The admin lets the visitor in; the page continues by itself to the
  //    callback and on to the app.
  await admin('PUT', `/v1/rooms/${env.room}/serving`, { serving: mine });
  await page.waitForURL((u) => u.href.startsWith(app) && u.pathname === '/private', { timeout: 60000 });
  const first = await upstream(page);
  log('app sees', JSON.stringify(first));
  assert(first.user && first.email && first.email !== first.user, `user/email headers: ${JSON.stringify(first)}`);
  assert(/@visitors\.example\.com$/.test(first.email), `e-mail is not the client's claims.email: ${first.email}`);
  let c = await counters();
  assert(c.tokens === 1 && c.completed === 0, `counters after login: ${JSON.stringify(c)}`);

  // 3. After --cookie-refresh (shortened by the test) the next request
  //    refreshes the session with the refresh token; the app still answers.
  await page.waitForTimeout(5000);
  await page.goto(`${app}/private?after-refresh`);
  const second = await upstream(page);
  assert(second.user === first.user, `the user changed on refresh: ${JSON.stringify(second)}`);
  log('after refresh the app still sees', second.user);

  // 4. Sign-out: oauth2-proxy calls waitroom's end_session (backend logout),
  //    which completes the room session.
  await page.goto(`${app}/oauth2/sign_out`);
  c = await counters();
  log('counters after sign-out', JSON.stringify(c));
  assert(c.completed === 1, `the waitroom session did not end: ${JSON.stringify(c)}`);

  // 5. The next visit queues again: a new ticket, waiting.
  await page.goto(`${app}/private`);
  await page.waitForURL(/\/login\/[^/]+$/, { timeout: 15000 });
  await waitForState(page, 'waiting');
  const again = await position(page);
  assert(again > mine, `after sign-out the visitor got position ${again}, want a new one after ${mine}`);
  log('after sign-out the visitor queues again at position', again);
  errors.push(...visitor.errors);
} catch (err) {
  errors.push(`failed: ${err.stack || err}`);
}
await visitor.close();
await browser.close();
if (errors.length) {
  console.log('FAIL oauth2-proxy');
  for (const e of errors) console.log(`    ${e}`);
  process.exit(1);
}
console.log('ok   oauth2-proxy');
