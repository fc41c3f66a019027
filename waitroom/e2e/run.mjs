// Runs the browser tests against a running waitroom (see e2e_test.go, which
// starts one and sets the WR_* environment). Exits non-zero on any failure,
// console error or serious/critical accessibility violation.
import { launch } from './lib.mjs';

const only = process.argv.slice(2);
// The gate suite needs a proxy in front of a site (gate_test.go starts
// them and sets WR_SITE_URL); it runs only then.
const suites = process.env.WR_SITE_URL
  ? ['./gate.test.mjs']
  : ['./panel.test.mjs', './flow.test.mjs', './room.test.mjs', './polling.test.mjs', './botgate.test.mjs'];

const browser = await launch();
let failed = 0;
for (const file of suites) {
  const suite = await import(file);
  if (only.length && !only.includes(suite.name)) continue;
  const report = { errors: [], a11y: [] };
  const started = Date.now();
  try {
    await suite.run(browser, report);
  } catch (err) {
    report.errors.push(`failed: ${err.stack || err}`);
  }
  const problems = [...report.errors, ...report.a11y];
  const took = ((Date.now() - started) / 1000).toFixed(1);
  if (problems.length) {
    failed++;
    console.log(`FAIL ${suite.name} (${took}s)`);
    for (const p of problems) console.log(`    ${p}`);
  } else {
    console.log(`ok   ${suite.name} (${took}s)`);
  }
}
await browser.close();
process.exit(failed ? 1 : 0);
