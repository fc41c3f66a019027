// Control panel, run as a sale is: sign-in (back to the page asked for),
// a new room, every lever of it (cap, rate, mode, health gate, webhook,
// schedule) with its effect on the room, a refused advance past the end of
// the line, the audit trail, reset, deletion, and the OpenID clients.
import http from 'node:http';
import { Admin, Visitor, assert, checkA11y, env, fillers, screenshot, textOf } from './lib.mjs';

export const name = 'control panel';

const ROOM = 'spring-sale';

export async function run(browser, report) {
  // A visit before signing in goes to the sign-in form, which refuses a
  // wrong key and then returns to the page asked for.
  const stranger = await Visitor.create(browser, 'stranger');
  const sp = await stranger.page();
  await sp.goto(`${env.adminURL}/panel/rooms/${env.room}`);
  assert(new URL(sp.url()).pathname === '/panel/login', `unsigned visit not sent to sign-in: ${sp.url()}`);
  await screenshot(sp, 'panel-login');
  report.a11y.push(...(await checkA11y(sp, 'panel sign-in')));
  await sp.fill('#key', 'not-the-key');
  await sp.click('button[type=submit]');
  assert((await textOf(sp, '.problem')).length > 0, 'no message for a wrong key');
  await sp.fill('#key', env.adminKey);
  await Promise.all([sp.waitForURL(`${env.adminURL}/panel/rooms/${env.room}`), sp.click('button[type=submit]')]);
  await stranger.close();
  report.errors.push(...stranger.errors.filter((e) => !e.includes('401')));

  const admin = await Admin.signIn(browser);
  const page = admin.page;
  const cookies = await admin.visitor.context.cookies();
  const session = cookies.find((c) => c.name === 'wr_panel');
  assert(session && session.httpOnly && session.sameSite === 'Strict', `session cookie: ${JSON.stringify(session)}`);
  const stored = await page.evaluate(() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie);
  assert(!stored.includes(env.adminKey), 'the admin key reached browser storage');
  assert((await page.locator(`a[href$="/rooms/${env.room}"]`).count()) === 1, 'room missing from the list');

  // A new room, manual at first: nobody moves until a lever does.
  await admin.submit('form[action$="/panel/rooms"]', { '#nr-id': ROOM, '#nr-name': 'Spring sale', '#nr-rate': '' });
  assert(new URL(page.url()).pathname === `/panel/rooms/${ROOM}`, `not on the new room: ${page.url()}`);
  assert((await textOf(page, '.flash')).length > 0, 'no confirmation of the new room');
  await fillers(40, ROOM);
  let s = await admin.counters(ROOM);
  assert(s.counters.queue === 40 && s.counters.serving === 0 && s.pace.kind === 'manual', `new room: ${JSON.stringify(s.counters)} ${JSON.stringify(s.pace)}`);

  // Cap: at most 5 admitted at a time; nobody comes back, so 5 it stays.
  await admin.inlet({ '#i-strategy': 'max_active', '#i-max': 5 }, ROOM);
  assert(await page.locator('#i-max').isVisible(), 'cap field hidden for max_active');
  assert(!(await page.locator('#i-rate').isVisible()), 'rate field shown for max_active');
  s = await admin.until('cap lets 5 in', (x) => x.counters.serving === 5, ROOM);
  assert(s.pace.kind === 'max_active' && s.admitted_not_arrived === 5 && s.in_line === 35, `capped room: ${JSON.stringify(s)}`);
  await new Promise((r) => setTimeout(r, 2500));
  s = await admin.counters(ROOM);
  assert(s.counters.serving === 5, `serving ${s.counters.serving} past the cap of 5`);

  // Rate: 600 a minute lets the other 35 in within seconds.
  await admin.inlet({ '#i-strategy': 'rate', '#i-rate': 600 }, ROOM);
  assert(/600/.test(await textOf(page, '#pace')), `pace line: ${await textOf(page, '#pace')}`);
  s = await admin.until('rate lets the line in', (x) => x.counters.serving === 40, ROOM);
  assert(s.pace.kind === 'rate' && s.pace.per_minute === 600 && s.admissions_per_minute === 600, `rate: ${JSON.stringify(s.pace)}`);

  // Mode: paused holds newcomers back; queuing again lets them in.
  await admin.setMode('paused', ROOM);
  assert((await page.locator('#mode.mode-paused').count()) === 1, 'room not shown paused');
  await fillers(5, ROOM);
  await new Promise((r) => setTimeout(r, 2500));
  s = await admin.counters(ROOM);
  assert(s.mode === 'paused' && s.counters.serving === 40, `paused room moved: ${JSON.stringify(s.counters)}`);
  await admin.setMode('queue', ROOM);
  await admin.until('queuing again', (x) => x.counters.serving === 45, ROOM);

  // Health gate: a site that does not answer holds admission back, and
  // the room says so.
  const dead = `http://127.0.0.1:${await closedPort()}/health`;
  await admin.openRoom(ROOM);
  await admin.submit('#gate-form', { '#g-url': dead, '#g-every': '1s', '#g-timeout': '500ms', '#g-fail': 1, '#g-ok': 1 });
  await page.waitForSelector('#gated:not([hidden])', { timeout: 20000 });
  await fillers(5, ROOM);
  await new Promise((r) => setTimeout(r, 2500));
  s = await admin.counters(ROOM);
  assert(s.gated && s.counters.serving === 45 && s.counters.queue === 50, `gated room: ${JSON.stringify(s.counters)} gated=${s.gated}`);
  await screenshot(page, 'panel-room-gated');
  await Promise.all([page.waitForNavigation(), page.locator('#gate-form button[name=remove]').click()]);
  await admin.until('gate removed', (x) => !x.gated && x.counters.serving === 50, ROOM);

  // Webhook: a receiver gets the room's events, signed.
  const hooks = await receiver();
  try {
    await admin.openRoom(ROOM);
    await page.fill('#h-url', hooks.url);
    await page.fill('#h-secret', 'hook-secret-0123456789');
    await page.check('#h-ev-admin_change');
    await Promise.all([page.waitForNavigation(), page.locator('#hook-form button[type=submit]').click()]);
    assert((await page.locator(`.hooks code:text("${hooks.url}")`).count()) === 1, 'webhook not listed');
    await admin.setMode('queue', ROOM); // a change: an admin_change event
    const got = await hooks.first(20000);
    assert(got.body.includes('admin_change') && Object.keys(got.headers).some((h) => /signature/i.test(h)), `webhook: ${JSON.stringify(got)}`);
  } finally {
    hooks.close();
  }

  // Schedule: a room opening later takes nobody in before then.
  const opens = new Date(Date.now() + 2 * 3600 * 1000).toISOString().slice(0, 16);
  await admin.schedule({ '#s-opens': opens }, ROOM);
  s = await admin.until('not open yet', (x) => x.pace.kind === 'not_open', ROOM);
  await admin.openRoom(ROOM);
  assert((await textOf(page, '#pace')).length > 0, 'no pace line for a room not open yet');
  await admin.schedule({ '#s-opens': '' }, ROOM);
  await admin.until('open again', (x) => x.pace.kind === 'rate', ROOM);

  // Advancing past the end of the line needs a confirmation that says how
  // many later arrivals would skip it; cancelling leaves serving alone.
  await admin.inlet({ '#i-strategy': 'manual' }, ROOM);
  s = await admin.counters(ROOM);
  const before = s.counters.serving;
  await admin.advance(1000, ROOM);
  const confirm = await textOf(page, '.confirm');
  assert(/\d/.test(confirm) && (await page.locator('.confirm button.danger').count()) === 1, `no confirmation: ${confirm}`);
  await screenshot(page, 'panel-advance-confirm');
  report.a11y.push(...(await checkA11y(page, 'panel advance confirmation')));
  await Promise.all([page.waitForNavigation(), page.locator('.confirm a.cancel').click()]);
  s = await admin.counters(ROOM);
  assert(s.counters.serving === before, `serving moved to ${s.counters.serving} without confirmation`);
  // The refusal answers 409, which the browser logs: expected here only.
  admin.visitor.errors = admin.visitor.errors.filter((e) => !e.includes('status of 409'));

  // The audit trail names who changed what, before and after.
  await admin.openRoom(ROOM);
  const trail = await textOf(page, 'table.audit');
  assert(/admin/.test(trail) && /max_active/.test(trail) && /600/.test(trail), `room audit: ${trail.slice(0, 400)}`);
  await screenshot(page, 'panel-room-sale');
  report.a11y.push(...(await checkA11y(page, 'panel room')));
  await page.goto(`${env.adminURL}/panel/audit`);
  assert((await page.locator(`table.audit a[href$="/rooms/${ROOM}"]`).count()) > 3, 'whole audit trail lacks the room');
  await screenshot(page, 'panel-audit');
  report.a11y.push(...(await checkA11y(page, 'panel audit')));

  // Reset needs the room id typed exactly.
  await admin.openRoom(ROOM);
  await page.fill('#reset-confirm', 'wrong');
  await page.evaluate(() => document.querySelector('#reset-confirm').removeAttribute('pattern'));
  await Promise.all([page.waitForNavigation(), page.locator('form[action$="/reset"] button').click()]);
  assert((await textOf(page, '.problem')).length > 0, 'no message for a mistyped reset');
  admin.visitor.errors = admin.visitor.errors.filter((e) => !e.includes('status of 400'));
  s = await admin.counters(ROOM);
  assert(s.counters.serving === before, 'a mistyped confirmation reset the room');
  await admin.reset(ROOM);
  s = await admin.counters(ROOM);
  assert(s.counters.serving === 0 && s.counters.queue === 0, `after reset: ${JSON.stringify(s.counters)}`);

  // Delete, with the id typed: gone from the list.
  await admin.openRoom(ROOM);
  await admin.submit(`form[action$="/rooms/${ROOM}/delete"]`, { '#delete-confirm': ROOM });
  assert(new URL(page.url()).pathname === '/panel/', `after delete: ${page.url()}`);
  assert((await page.locator(`a[href$="/rooms/${ROOM}"]`).count()) === 0, 'deleted room still listed');
  await screenshot(page, 'panel-rooms');
  report.a11y.push(...(await checkA11y(page, 'panel rooms')));

  // OpenID clients: create (the secret is shown once), edit, rotate, delete.
  await page.goto(`${env.adminURL}/panel/clients`);
  const form = 'form[action$="/panel/clients"]';
  await page.fill('#cf-id-new', 'shop');
  await page.fill(`${form} [name=name]`, 'Ticket shop');
  await page.fill(`${form} [name=redirect_uris]`, 'https://shop.example/callback');
  await Promise.all([page.waitForNavigation(), page.locator(`${form} button[type=submit]`).click()]);
  const secret = await textOf(page, '#new-secret');
  assert(secret.startsWith('shop: ') && secret.length > 20, `no secret shown: ${secret}`);
  assert((await page.locator('#c-shop').count()) === 1, 'new client not listed');
  await screenshot(page, 'panel-clients');
  report.a11y.push(...(await checkA11y(page, 'panel clients')));
  await page.fill('#cf-name-shop', 'Ticket shop (spring)');
  await Promise.all([page.waitForNavigation(), page.locator('form[action$="/clients/shop"] button[type=submit]').click()]);
  assert((await textOf(page, '#c-shop')).includes('spring'), 'client name not saved');
  await Promise.all([page.waitForNavigation(), page.locator('form[action$="/clients/shop/secret"] button').click()]);
  const rotated = await textOf(page, '#new-secret');
  assert(rotated !== secret, 'secret not rotated');
  await page.fill('#del-shop', 'shop');
  await Promise.all([page.waitForNavigation(), page.locator('form[action$="/clients/shop/delete"] button').click()]);
  assert((await page.locator('#c-shop').count()) === 0, 'client not deleted');
  report.errors.push(...admin.visitor.errors);
  await admin.visitor.close();
}

// closedPort returns a loopback port nothing listens on.
async function closedPort() {
  const srv = http.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const port = srv.address().port;
  await new Promise((r) => srv.close(r));
  return port;
}

// receiver is a webhook endpoint on a free loopback port; first resolves
// with the first delivery (headers and body).
async function receiver() {
  const got = [];
  let wake = null;
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(204).end();
      if (wake) wake();
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${srv.address().port}/hook`,
    close: () => srv.close(),
    first: (timeout) => new Promise((resolve, reject) => {
      if (got.length) return resolve(got[0]);
      const t = setTimeout(() => reject(new Error('no webhook delivery')), timeout);
      wake = () => { clearTimeout(t); resolve(got[0]); };
    }),
  };
}
