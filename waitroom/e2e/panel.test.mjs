// Control panel: sign-in, live room view, advance, set, pause/resume, reset.
import { Admin, Visitor, assert, checkA11y, env, screenshot, textOf } from './lib.mjs';

export const name = 'control panel';

export async function run(browser, report) {
  // A wrong key is refused and the form says so.
  const stranger = await Visitor.create(browser, 'stranger');
  const sp = await stranger.page();
  await sp.goto(`${env.adminURL}/panel/rooms/${env.room}`);
  assert(sp.url().endsWith('/panel/login'), `unsigned visit not sent to sign-in: ${sp.url()}`);
  await screenshot(sp, 'panel-login');
  report.a11y.push(...(await checkA11y(sp, 'panel sign-in')));
  await sp.fill('#key', 'not-the-key');
  await sp.click('button[type=submit]');
  assert((await textOf(sp, '.problem')).length > 0, 'no message for a wrong key');
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
  await screenshot(page, 'panel-rooms');
  report.a11y.push(...(await checkA11y(page, 'panel rooms')));

  await admin.advance(2);
  assert((await textOf(page, '.flash')).length > 0, 'no confirmation after advancing');
  let s = await admin.counters();
  assert(s.counters.serving === 2, `serving ${s.counters.serving} after advancing by 2`);
  await admin.setServing(5);
  s = await admin.counters();
  assert(s.counters.serving === 5, `serving ${s.counters.serving} after setting 5`);

  await admin.setMode('paused');
  assert((await textOf(page, '#mode')).length > 0 && (await page.locator('.mode-paused').count()) > 0, 'room not shown paused');
  s = await admin.counters();
  assert(s.mode === 'paused', `mode ${s.mode}`);
  await admin.setMode('queue');

  // Reset needs the room id typed exactly.
  await admin.openRoom();
  await page.fill('#reset-confirm', 'wrong');
  await page.evaluate(() => document.querySelector('#reset-confirm').removeAttribute('pattern'));
  await Promise.all([page.waitForNavigation(), page.locator('form[action$="/reset"] button').click()]);
  assert((await textOf(page, '.problem')).length > 0, 'no message for a mistyped reset');
  // The refusal answers 400, which the browser logs: expected here only.
  admin.visitor.errors = admin.visitor.errors.filter((e) => !e.includes('status of 400'));
  s = await admin.counters();
  assert(s.counters.serving === 5, 'a mistyped confirmation reset the room');
  await admin.reset();
  s = await admin.counters();
  assert(s.counters.serving === 0 && s.counters.queue === 0, `after reset: ${JSON.stringify(s.counters)}`);

  await admin.openRoom();
  report.a11y.push(...(await checkA11y(page, 'panel room')));

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
