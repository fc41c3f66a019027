// How the waiting page polls: it honours Retry-After, says so when the
// connection is lost, recovers, slows down in a hidden tab, and fits a
// 320 px screen; without
// JavaScript it refreshes itself through to the site.
import { Admin, Visitor, assert, fillers, joinThroughDemo, textOf, waitForState } from './lib.mjs';

export const name = 'polling';

export async function run(browser, report) {
  await fillers(12); // the demo room's rate inlet lets 12 a minute in: stay well behind
  const visitor = await Visitor.create(browser, 'poller', { viewport: { width: 320, height: 640 } });
  const page = await visitor.page();
  await page.clock.install();
  await joinThroughDemo(page);
  await waitForState(page, 'waiting');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert(width <= 320, `the page is ${width}px wide at 320px: it scrolls sideways`);

  // The status endpoint is overloaded: 503 with Retry-After: 90.
  const polls = [];
  let overloaded = true;
  await page.route('**/queue/*/status*', async (route) => {
    polls.push(Date.now());
    if (overloaded) {
      await route.fulfill({ status: 503, headers: { 'Retry-After': '90' }, contentType: 'application/json', body: '{"error":"unavailable"}' });
    } else {
      await route.continue();
    }
  });
  await page.clock.pauseAt(new Date(Date.now() + 1000));
  await page.clock.runFor(10000); // the first poll (due within ~5 s) fails
  await page.waitForTimeout(300);
  assert(polls.length === 1, `${polls.length} polls in the first 10 s, want 1`);
  await page.clock.runFor(60000); // Retry-After 90 (±20 %): nothing yet
  await page.waitForTimeout(300);
  assert(polls.length === 1, `polled again ${polls.length - 1} times before Retry-After`);
  await page.clock.runFor(60000); // now it is due
  await page.waitForTimeout(300);
  assert(polls.length === 2, `${polls.length} polls after Retry-After, want 2`);
  assert(await page.locator('#connection').isVisible(), 'no notice after two failed polls');

  // Service is back: the next poll succeeds and the notice goes away.
  overloaded = false;
  await page.clock.runFor(120000);
  await page.waitForTimeout(500);
  assert(await page.locator('#connection').isHidden(), 'the connection notice stayed after recovery');

  // A hidden tab polls far less often; it catches up when shown again.
  await page.evaluate(() => Object.defineProperty(document, 'hidden', { configurable: true, get: () => true }));
  await page.clock.runFor(10000); // the poll planned while visible
  await page.waitForTimeout(300);
  const seen = polls.length;
  await page.clock.runFor(20000);
  await page.waitForTimeout(300);
  assert(polls.length === seen, `a hidden tab polled ${polls.length - seen} times within 20 s`);
  await page.evaluate(() => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await page.clock.runFor(2000);
  await page.waitForTimeout(300);
  assert(polls.length === seen + 1, 'no poll on coming back to the tab');
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  // The failed polls are logged by the browser; expected here.
  report.errors.push(...visitor.errors.filter((e) => !e.includes('status of 503')));
  await visitor.close();

  // Without JavaScript the page refreshes itself and, once admitted,
  // the refresh completes the login.
  const admin = await Admin.signIn(browser);
  const plain = await Visitor.create(browser, 'no-js', { javaScriptEnabled: false });
  const pp = await plain.page();
  await joinThroughDemo(pp);
  const mine = Number((await textOf(pp, '#position')).replace(/\D/g, ''));
  assert(mine > 0, 'no position without JavaScript');
  await admin.setServing(mine);
  await pp.waitForSelector('text=You are through', { timeout: 30000 });
  assert(/You are through/.test(await pp.locator('body').innerText()), 'no-JS login did not finish');
  report.errors.push(...plain.errors, ...admin.visitor.errors);
  await plain.close();
  await admin.visitor.close();
}
