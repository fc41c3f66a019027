// Solves a waiting room's proof-of-work challenge off the page's thread:
// finds a counter such that SHA-256(token + ":" + counter) starts with
// `difficulty` zero bits, reporting progress as it goes.
'use strict';

const BATCH = 128;

function zeroBits(bytes) {
  let n = 0;
  for (const b of bytes) {
    if (b === 0) { n += 8; continue; }
    return n + Math.clz32(b) - 24;
  }
  return n;
}

async function solve(token, difficulty) {
  const encoder = new TextEncoder();
  const prefix = token + ':';
  const started = performance.now();
  let lastReport = started;
  for (let base = 0; ; base += BATCH) {
    const work = [];
    for (let i = 0; i < BATCH; i++) {
      work.push(crypto.subtle.digest('SHA-256', encoder.encode(prefix + (base + i))));
    }
    const sums = await Promise.all(work);
    for (let i = 0; i < BATCH; i++) {
      if (zeroBits(new Uint8Array(sums[i])) >= difficulty) {
        return { solution: String(base + i), attempts: base + i + 1, ms: performance.now() - started };
      }
    }
    const now = performance.now();
    if (now - lastReport > 150) {
      lastReport = now;
      self.postMessage({ attempts: base + BATCH, ms: now - started });
    }
  }
}

self.onmessage = async (event) => {
  const { token, difficulty } = event.data;
  try {
    const result = await solve(token, difficulty);
    self.postMessage(Object.assign({ done: true }, result));
  } catch (err) {
    self.postMessage({ failed: true });
  }
};
