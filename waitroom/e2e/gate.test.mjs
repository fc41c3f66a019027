// A site behind a reverse proxy (nginx or Caddy, see gate_test.go) with
// waitroom's gate: a visitor asking for a page waits in the room, is
// admitted, lands on the exact URL asked for (query string included), and
// later visits pass without waiting; an asset passes without admission; an
// API call without admission gets 503 with Retry-After.
import { Visitor, assert, checkA11y, env, screenshot, textOf, waitForState } from './lib.mjs';

export const name = 'gate';

const site = process.env.WR_SITE_URL;
const proxy = process.env.WR_PROXY || 'proxy';

// advance moves the room's serving counter through the admin API.
async function advance(by) {
  const resp = await fetch(`${env.adminURL}/v1/rooms/${env.room}/advance`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${env.adminKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ by }),
  });
  assert(resp.ok, `advance: status ${resp.status}: ${await resp.text()}`);
}

export async function run(browser, report) {
  const visitor = await Visitor.create(browser, `${proxy} visitor`);
  const newcomer = await Visitor.create(browser, `${proxy} newcomer`);
  try {
    const page = await visitor.page();
    const wanted = `${site}/product?id=42&color=red`;
    await page.goto(wanted);
    const roomPage = `${env.publicURL}/gate/${env.room}/wait?`;
    assert(page.url().startsWith(roomPage), `${proxy}: not sent to the room page: ${page.url()}`);
    await waitForState(page, 'waiting');
    await screenshot(page, `gate-room-${proxy}`);
    report.a11y.push(...(await checkA11y(page, `gate room page (${proxy})`)));

    // Admitted: the page notices on its next poll and goes back to the site.
    await advance(1);
    await page.waitForURL(wanted, { timeout: 30000 });
    assert((await textOf(page, '#uri')) === '/product?id=42&color=red', `${proxy}: site got ${await textOf(page, '#uri')}`);
    assert((await textOf(page, '#position')) === '1', `${proxy}: X-Waitroom-Position ${await textOf(page, '#position')}`);
    assert(/^[0-9a-f]{32}$/.test(await textOf(page, '#visitor')), `${proxy}: X-Waitroom-Visitor ${await textOf(page, '#visitor')}`);

    // A second visit passes without waiting.
    const again = `${site}/cart?step=2`;
    const resp = await page.goto(again);
    assert(page.url() === again && resp.status() === 200, `${proxy}: second visit went to ${page.url()} (${resp.status()})`);
    assert((await textOf(page, '#uri')) === '/cart?step=2', `${proxy}: second visit: site got ${await textOf(page, '#uri')}`);

    // Someone without admission: the asset passes, the API is busy, a page
    // is sent to the room. (Navigations: the browser resolves *.localhost,
    // Node's resolver does not.)
    const other = await newcomer.page();
    const asset = await other.goto(`${site}/static/app.css`);
    assert(asset.status() === 200 && (await asset.text()).includes('font-family'), `${proxy}: asset status ${asset.status()}`);
    const api = await other.goto(`${site}/api/cart`);
    assert(api.status() === 503, `${proxy}: API status ${api.status()}, want 503`);
    assert(api.headers()['retry-after'] === '15', `${proxy}: API Retry-After ${api.headers()['retry-after']}`);
    await other.goto(`${site}/`);
    assert(other.url().startsWith(roomPage), `${proxy}: page without admission went to ${other.url()}`);

    // Logout through the gate ends the session and clears the cookie: the
    // page it returns to is protected, so the visitor queues again.
    await page.goto(`${site}/.waitroom/logout?return=${encodeURIComponent('/product?id=43')}`);
    const back = `${roomPage}return=${encodeURIComponent(`${site}/product?id=43`)}`;
    assert(page.url() === back, `${proxy}: after logout: ${page.url()}, want ${back}`);
    await waitForState(page, 'waiting');
  } finally {
    // The API's 503 is the point, not a console error of the test.
    report.errors.push(...visitor.errors, ...newcomer.errors.filter((e) => !e.includes('status of 503')));
    await visitor.close();
    await newcomer.close();
  }
}
