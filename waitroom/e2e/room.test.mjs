// Every state of the waiting-room page, in English and French: waiting in
// French, paused, closed, not open yet and expired. Each is screenshotted
// at desktop and 360 px width and checked with axe-core.
import { Admin, Visitor, assert, checkA11y, fillers, joinThroughDemo, screenshot, textOf, waitForState } from './lib.mjs';

export const name = 'room page';

export async function run(browser, report) {
  const admin = await Admin.signIn(browser);
  await fillers(12); // the demo room's rate inlet lets 12 a minute in: stay well behind
  const visitors = [];
  const visit = async (label, options = {}) => {
    const v = await Visitor.create(browser, label, options);
    visitors.push(v);
    const page = await v.page();
    await joinThroughDemo(page);
    return page;
  };

  // French, from the browser's language.
  const fr = await visit('french', { locale: 'fr-FR' });
  await waitForState(fr, 'waiting');
  assert((await fr.locator('html').getAttribute('lang')) === 'fr', 'page not in French');
  assert((await textOf(fr, '#state-title')) === 'Vous êtes dans la file', `French title: ${await textOf(fr, '#state-title')}`);
  assert(/devant vous/.test(await textOf(fr, '#ahead')), 'French ahead text');
  await screenshot(fr, 'room-waiting-fr');
  report.a11y.push(...(await checkA11y(fr, 'room waiting (fr)')));

  // Paused by the organiser: the open page notices on its next poll.
  await admin.setMode('paused');
  await waitForState(fr, 'paused');
  await fr.goto(fr.url().replace(/lang=\w+/, '').replace(/\?$/, '') + (fr.url().includes('?') ? '&' : '?') + 'lang=en');
  await waitForState(fr, 'paused');
  assert(/Paused/.test(await textOf(fr, '#state-title')), 'paused title');
  await screenshot(fr, 'room-paused');
  report.a11y.push(...(await checkA11y(fr, 'room paused')));
  await admin.setMode('queue');
  // Done with this visitor: a page left polling would be admitted, and
  // expired, by the expiry step below (a 410 in its console).
  await fr.close();

  // Closed: a newcomer is told so.
  await admin.setMode('closed');
  const closed = await visit('newcomer-closed');
  await waitForState(closed, 'closed');
  // A newcomer to a closed room gets a 503, which the browser logs.
  visitors[visitors.length - 1].errors = visitors[visitors.length - 1].errors.filter((e) => !e.includes('status of 503'));
  await screenshot(closed, 'room-closed');
  report.a11y.push(...(await checkA11y(closed, 'room closed')));
  await admin.setMode('queue');

  // Not open yet: the page gives the opening time.
  const opens = new Date(Date.now() + 2 * 3600 * 1000).toISOString().slice(0, 16);
  await admin.schedule({ '#s-opens': opens });
  const early = await visit('newcomer-early');
  await waitForState(early, 'not_open');
  const when = await early.locator('#opens').getAttribute('datetime');
  assert(when.startsWith(opens), `opening time ${when}, want ${opens}`);
  assert(/Opens .*\d{4}/.test(await textOf(early, '#opens')), `opening time not worded: ${await textOf(early, '#opens')}`);
  await screenshot(early, 'room-not-open');
  report.a11y.push(...(await checkA11y(early, 'room not open')));
  await early.close();
  await admin.schedule({ '#s-opens': '' });

  // Expired: admitted while away, back too late. The page script is kept
  // out while away so the visitor does not continue on their own.
  await admin.settings({ '#s-expiry': '1s' });
  try {
    const away = await Visitor.create(browser, 'away');
    visitors.push(away);
    const silence = (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: '' });
    await away.context.route('**/js/room.js*', silence);
    const first = await away.page();
    await joinThroughDemo(first);
    const url = first.url();
    const pos = Number((await textOf(first, '#position')).replace(/\D/g, ''));
    await first.close();
    await admin.setServing(pos);
    await away.context.unroute('**/js/room.js*', silence);
    let expiredPage = null;
    for (let i = 0; i < 30 && !expiredPage; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      const p = await away.page();
      await p.goto(url);
      if ((await p.locator('main[data-state="expired"]').count()) > 0) expiredPage = p;
      else await p.close();
    }
    assert(expiredPage, 'the place never expired');
    await screenshot(expiredPage, 'room-expired');
    report.a11y.push(...(await checkA11y(expiredPage, 'room expired')));
    // The expired page answers 410, which the browser logs: expected here.
    away.errors = away.errors.filter((e) => !e.includes('status of 410'));
  } finally {
    await admin.settings({ '#s-expiry': '15m' });
  }

  // By now the panel has sampled the room for a while: its live view
  // draws the last minutes (queue, serving counter, admissions).
  await admin.openRoom();
  await admin.page.waitForSelector('#chart svg', { timeout: 30000 });
  await screenshot(admin.page, 'panel-room');

  for (const v of visitors) {
    report.errors.push(...v.errors);
    await v.close();
  }
  report.errors.push(...admin.visitor.errors);
  await admin.visitor.close();
}
