// Shared helpers of the browser tests: the browser, pages that record
// console errors, screenshots at two widths and the accessibility check.
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);

export const env = {
  publicURL: process.env.WR_PUBLIC_URL,
  adminURL: process.env.WR_ADMIN_URL,
  adminKey: process.env.WR_ADMIN_KEY,
  room: process.env.WR_ROOM || 'demo',
  shots: process.env.WR_SCREENSHOTS || '',
  chromium: process.env.WR_CHROMIUM || '/usr/bin/chromium',
};

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 360, height: 740 };

export async function launch() {
  return chromium.launch({
    executablePath: env.chromium,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

// Browser is one visitor (one cookie jar) whose pages fail the test on any
// console error (a Content-Security-Policy violation among them) or
// uncaught exception.
export class Visitor {
  constructor(context, name) {
    this.context = context;
    this.name = name;
    this.errors = [];
  }

  static async create(browser, name, options = {}) {
    // The pages keep their Content-Security-Policy: a script, style or
    // handler it refuses is a console error ("Refused to ..."), which
    // fails the test like any other.
    const context = await browser.newContext({ viewport: DESKTOP, ...options });
    return new Visitor(context, name);
  }

  async page() {
    const page = await this.context.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error') this.errors.push(`${this.name}: console: ${msg.text()}`);
    });
    page.on('pageerror', (err) => this.errors.push(`${this.name}: page error: ${err.message}`));
    return page;
  }

  async close() { await this.context.close(); }
}

// screenshot saves the page at desktop width and at 360 px, then restores
// the viewport. Names are <name>-desktop.png and <name>-360.png.
export async function screenshot(page, name) {
  if (!env.shots) return;
  mkdirSync(env.shots, { recursive: true });
  const before = page.viewportSize();
  for (const [suffix, size] of [['desktop', DESKTOP], ['360', PHONE]]) {
    await page.setViewportSize(size);
    await page.screenshot({ path: path.join(env.shots, `${name}-${suffix}.png`), fullPage: true });
  }
  await page.setViewportSize(before);
}

// checkA11y runs axe-core on the page and returns the serious and critical
// violations, as readable lines.
export async function checkA11y(page, label) {
  // Evaluated through the browser's debugging protocol, which the page's
  // Content-Security-Policy does not govern (a <script> tag would be
  // refused, as it should be).
  await page.evaluate(readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    return axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
  });
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${label}: ${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`);
}

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

export async function textOf(page, selector) {
  return (await page.locator(selector).innerText()).trim();
}

// Admin drives the control panel in its own browser context.
export class Admin {
  constructor(visitor, page) {
    this.visitor = visitor;
    this.page = page;
  }

  static async signIn(browser) {
    const visitor = await Visitor.create(browser, 'admin');
    const page = await visitor.page();
    await page.goto(`${env.adminURL}/panel/login`);
    await page.fill('#key', env.adminKey);
    await Promise.all([page.waitForURL(`${env.adminURL}/panel/`), page.click('button[type=submit]')]);
    return new Admin(visitor, page);
  }

  async openRoom(room = env.room) {
    await this.page.goto(`${env.adminURL}/panel/rooms/${room}`);
  }

  // submit fills a form's fields (selector → value; select elements get
  // the option) and submits it with its first submit button.
  async submit(formSelector, fill = {}) {
    for (const [sel, value] of Object.entries(fill)) {
      const field = this.page.locator(sel);
      const tag = await field.evaluate((e) => e.tagName);
      if (tag === 'SELECT') await field.selectOption(String(value));
      else await field.fill(String(value));
    }
    await Promise.all([
      this.page.waitForNavigation(),
      this.page.locator(`${formSelector} button[type=submit]`).first().click(),
    ]);
  }

  async advance(by, room = env.room) {
    await this.openRoom(room);
    await this.submit('#advance-form', { '#advance-by': by });
  }

  async setServing(value, room = env.room) {
    await this.openRoom(room);
    await this.submit('#set-form', { '#serving-value': value });
  }

  async setMode(mode, room = env.room) {
    await this.openRoom(room);
    await this.submit('#mode-form', { '#m-mode': mode });
  }

  async inlet(fill, room = env.room) {
    await this.openRoom(room);
    await this.submit('#inlet-form', fill);
  }

  async settings(fill, room = env.room) {
    await this.openRoom(room);
    await this.submit('#settings-form', fill);
  }

  async schedule(fill, room = env.room) {
    await this.openRoom(room);
    await this.submit('#schedule-form', fill);
  }

  async reset(room = env.room) {
    await this.openRoom(room);
    await this.submit('form[action$="/reset"]', { '#reset-confirm': room });
  }

  async counters(room = env.room) {
    const res = await this.page.request.get(`${env.adminURL}/panel/rooms/${room}/stats`, { headers: { Accept: 'application/json' } });
    assert(res.ok(), `stats: ${res.status()}`);
    return res.json();
  }

  // until polls the room's live numbers until check passes.
  async until(what, check, room = env.room, timeout = 20000) {
    const end = Date.now() + timeout;
    let s;
    for (;;) {
      s = await this.counters(room);
      if (check(s)) return s;
      if (Date.now() > end) throw new Error(`${what}: not within ${timeout / 1000}s; last ${JSON.stringify({ counters: s.counters, pace: s.pace, mode: s.mode, gated: s.gated })}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

// fillers puts n anonymous tickets in line through the public API, so that
// the visitors of a test wait behind them.
export async function fillers(n, room = env.room) {
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${env.publicURL}/assign_queue_num`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ event_id: room }),
    });
    assert(res.ok, `assign_queue_num: ${res.status}`);
  }
}

// joinThroughDemo starts a login at the demo relying party and returns
// once the browser is on the room page.
export async function joinThroughDemo(page) {
  await page.goto(`${env.publicURL}/demo/`);
  await Promise.all([page.waitForURL(/\/login\/[^/]+$/), page.click('a[href$="/demo/login"]')]);
}

export async function position(page) {
  return Number((await textOf(page, '#position')).replace(/\D/g, ''));
}

// waitForState waits until the page shows the given state.
export async function waitForState(page, state, timeout = 20000) {
  await page.waitForSelector(`main[data-state="${state}"]`, { timeout });
}
