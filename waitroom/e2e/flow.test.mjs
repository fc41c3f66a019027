// A complete OpenID Connect login of the demo relying party through the
// queue: enqueue, see the position, the admin lets the visitor in from the
// control panel, the page continues by itself, and the relying party shows
// a verified ID token. Also: refresh and a second tab keep the place.
import { Admin, Visitor, assert, checkA11y, env, fillers, joinThroughDemo, position, screenshot, textOf, waitForState } from './lib.mjs';

export const name = 'oidc flow';

export async function run(browser, report) {
  const admin = await Admin.signIn(browser);
  await fillers(30);
  const visitor = await Visitor.create(browser, 'visitor', { locale: 'en-GB' });
  const page = await visitor.page();
  // A controllable page clock: paused below, so that "your turn" can be
  // looked at before the page moves on by itself.
  await page.clock.install();
  await joinThroughDemo(page);
  await waitForState(page, 'waiting');
  const mine = await position(page);
  assert(mine > 30, `position ${mine}, want behind the 30 fillers`);
  const ahead = await textOf(page, '#ahead');
  assert(/people ahead of you/.test(ahead), `ahead text: ${ahead}`);
  assert((await textOf(page, '#wait')).length > 0, 'no estimated wait');
  await screenshot(page, 'room-waiting');
  report.a11y.push(...(await checkA11y(page, 'room waiting')));

  // Refresh keeps the place; so does a second tab starting its own login.
  await page.reload();
  await waitForState(page, 'waiting');
  assert((await position(page)) === mine, 'refresh changed the position');
  const second = await visitor.page();
  await second.goto(page.url());
  await waitForState(second, 'waiting');
  assert((await position(second)) === mine, `a second tab on the room page got position ${await position(second)}, want ${mine}`);
  await second.close();
  // A second tab that starts a login of its own at the site keeps the
  // place too. The demo site keeps one login state per browser, so the
  // login goes on in this newest tab.
  const tab = await visitor.page();
  await joinThroughDemo(tab);
  await waitForState(tab, 'waiting');
  assert((await position(tab)) === mine, `second tab got position ${await position(tab)}, want ${mine}`);
  await page.close();

  // The status endpoint answers apps in JSON.
  const statusURL = await tab.locator('main').getAttribute('data-status-url');
  const status = await tab.evaluate(async (u) => (await fetch(u, { headers: { Accept: 'application/json' } })).json(), statusURL);
  assert(status.position === mine && status.state === 'waiting' && status.text && status.text.ahead, `status JSON: ${JSON.stringify(status)}`);

  // The admin lets everyone up to this visitor in; on its next poll the
  // page shows "your turn", then continues to the relying party by itself.
  await tab.clock.pauseAt(new Date(Date.now() + 1000));
  await admin.setServing(mine);
  // Step the page's clock a second at a time until the poll has brought
  // "your turn": one long jump could also run the continue timer that
  // the answer starts, when the answer comes back during the jump.
  for (let i = 0; i < 60 && (await tab.locator('main[data-state="your_turn"]').count()) === 0; i++) {
    await tab.clock.runFor(1000);
    await tab.waitForTimeout(50);
  }
  await waitForState(tab, 'your_turn');
  assert((await tab.locator('#continue').getAttribute('href')).includes('/login/'), 'no continue button');
  assert((await textOf(tab, '#announce')).length > 0, 'the turn was not announced to screen readers');
  await tab.waitForTimeout(800); // the progress bar's short transition
  await screenshot(tab, 'room-your-turn');
  await tab.clock.resume();
  await tab.waitForSelector('text=You are through', { timeout: 30000 });
  const body = await tab.locator('body').innerText();
  assert(/You are through/.test(body), 'the relying party did not finish the login: ' + body.slice(0, 400));
  assert(/queue_position/.test(body) && body.includes(String(mine)), 'the ID token does not carry the queue position');
  await screenshot(tab, 'demo-signed-in');
  // A refresh shows the finished login again, not a state mismatch.
  await tab.reload();
  assert(/You are through/.test(await tab.locator('body').innerText()), 'a refresh lost the finished login');

  // response_mode=form_post: the admitted browser's next login completes
  // at once, and the answer page posts the code to the client from its
  // script file (the Content-Security-Policy refuses inline handlers).
  // The client's callback is answered here, to see what it receives.
  const posted = [];
  await tab.route('**/demo/callback', (route) => {
    posted.push({ method: route.request().method(), body: route.request().postData() || '' });
    return route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><html lang="en"><title>client</title><p>posted</p></html>' });
  });
  const formPost = new URLSearchParams({ client_id: 'demo', redirect_uri: `${env.publicURL}/demo/callback`, response_type: 'code',
    scope: 'openid', state: 'form-post-state', response_mode: 'form_post' });
  await tab.goto(`${env.publicURL}/authorize?${formPost}`);
  await tab.waitForSelector('text=posted', { timeout: 30000 });
  const sent = posted[0] || {};
  assert(posted.length === 1 && sent.method === 'POST' && /(^|&)code=[^&]+/.test(sent.body) && sent.body.includes('state=form-post-state'),
    `form_post sent ${JSON.stringify(posted)}`);
  await tab.unroute('**/demo/callback');

  report.errors.push(...visitor.errors, ...admin.visitor.errors);
  await visitor.close();
  await admin.visitor.close();
}
