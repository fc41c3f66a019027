// The bot gate: with a proof-of-work gate on the demo room, a scripted
// client without a solution is refused with the challenge, a browser
// solves it in a worker ("checking your browser") and takes a place, and
// the solution cannot be used twice. WR_MEASURE_POW=1 also measures how
// long this browser takes per difficulty (docs/bot-gate.md).
import { Visitor, assert, checkA11y, env, position, screenshot, waitForState } from './lib.mjs';

export const name = 'bot gate';

async function patchRoom(body) {
  const res = await fetch(`${env.adminURL}/v1/rooms/${env.room}`, {
    method: 'PATCH', headers: { Authorization: `Bearer ${env.adminKey}`, 'Content-Type': 'application/merge-patch+json' },
    body: JSON.stringify(body),
  });
  assert(res.ok, `PATCH room: ${res.status} ${await res.text()}`);
}

async function assign(extra = {}) {
  const res = await fetch(`${env.publicURL}/assign_queue_num`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ event_id: env.room, ...extra }),
  });
  return { status: res.status, body: await res.json() };
}

// measure solves fresh challenges of each difficulty in the page's own
// worker and returns the browser's hash rate and the time per level.
async function measure(page, levels, runs) {
  return page.evaluate(async ({ levels, runs }) => {
    const worker = '/static/js/pow-worker.js';
    const solveOnce = (token, difficulty) => new Promise((resolve) => {
      const w = new Worker(worker);
      w.onmessage = (e) => { if (e.data.done) { w.terminate(); resolve(e.data); } };
      w.postMessage({ token, difficulty });
    });
    const out = [];
    for (const d of levels) {
      let attempts = 0; let ms = 0;
      for (let i = 0; i < runs; i++) {
        const r = await solveOnce(`measure-${d}-${i}-${Math.random()}`, d);
        attempts += r.attempts; ms += r.ms;
      }
      out.push({ difficulty: d, rate: Math.round(attempts / (ms / 1000)), meanSeconds: +(ms / runs / 1000).toFixed(2) });
    }
    return out;
  }, { levels, runs });
}

export async function run(browser, report) {
  await patchRoom({ bot_gate: { difficulty: 14 } });
  try {
    // A scripted client without a solution gets the documented 403.
    const refused = await assign();
    assert(refused.status === 403 && refused.body.code === 'challenge_required', `no solution: ${refused.status} ${JSON.stringify(refused.body)}`);
    assert(refused.body.challenge && refused.body.challenge.token && refused.body.challenge.difficulty === 14, `no challenge offered: ${JSON.stringify(refused.body)}`);

    const visitor = await Visitor.create(browser, 'gated visitor', { locale: 'en-GB' });
    const page = await visitor.page();
    const posted = page.waitForRequest((r) => r.method() === 'POST' && /\/login\/[^/]+$/.test(r.url()), { timeout: 60000 });
    // The solving worker's script is held back until the gate page has
    // been looked at: a quick solve would otherwise submit the answer
    // under the checks, and a page whose navigation is under way cannot be
    // photographed.
    let release;
    const looked = new Promise((resolve) => { release = resolve; });
    await page.context().route('**/js/pow-worker.js*', async (route) => {
      await looked;
      await route.continue();
    });
    // As joinThroughDemo, but without waiting for the page's load event.
    await page.goto(`${env.publicURL}/demo/`);
    await Promise.all([page.waitForURL(/\/login\/[^/]+$/, { waitUntil: 'commit' }), page.click('a[href$="/demo/login"]')]);
    try {
      const title = await page.locator('h1').first().innerText();
      assert(title === 'Checking your browser', `the gate page is titled ${JSON.stringify(title)}`);
      await screenshot(page, 'room-gate');
      report.a11y.push(...(await checkA11y(page, 'gate page')));
    } finally {
      release();
    }
    const request = await posted;
    const form = new URLSearchParams(request.postData());
    assert(form.get('challenge') && form.get('solution'), `the gate page posted ${request.postData()}`);
    await waitForState(page, 'waiting', 60000);
    assert((await position(page)) > 0, 'no place after solving the challenge');

    // The browser's solution, replayed by a script, takes no place.
    const replay = await assign({ challenge: form.get('challenge'), solution: form.get('solution') });
    assert(replay.status === 403 && replay.body.code === 'challenge_replayed', `replay through the API: ${replay.status} ${JSON.stringify(replay.body)}`);

    if (process.env.WR_MEASURE_POW) {
      // Any page of the server's origin may start the worker (its
      // console, which notes the missing favicon, is not checked).
      const measurer = await Visitor.create(browser, 'measure');
      const mpage = await measurer.page();
      await mpage.goto(`${env.publicURL}/static/js/gate.js`);
      const levels = [10, 12, 14, 16, 18, 20];
      const table = await measure(mpage, levels, Number(process.env.WR_MEASURE_RUNS || 8));
      console.log(`proof-of-work in this browser (${new Date().toISOString()}):`);
      for (const row of table) console.log(`  difficulty ${row.difficulty}: ${row.meanSeconds}s mean, ${row.rate} hashes/s`);
      await measurer.close();
    }
    report.errors.push(...visitor.errors);
    await visitor.close();
  } finally {
    await patchRoom({ bot_gate: null });
  }
}
