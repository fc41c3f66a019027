// The bot gate's page: solves the room's challenge in a Web Worker
// (pow-worker.js), shows how far it got, and posts the solution. With a
// CAPTCHA the visitor presses Continue once the widget is passed.
'use strict';

(function () {
  const main = document.getElementById('main');
  const form = document.getElementById('gate-form');
  const button = document.getElementById('gate-continue');
  const token = main.dataset.token;
  const difficulty = Number(main.dataset.difficulty);
  const captchaField = main.dataset.captcha;

  function captchaPassed() {
    if (!captchaField) return true;
    const field = form.querySelector('[name="' + captchaField + '"]');
    return Boolean(field && field.value);
  }

  function ready() {
    button.disabled = false;
    if (captchaPassed()) {
      form.submit();
      return;
    }
    // Wait for the widget: it fills its field when passed.
    const check = setInterval(function () {
      if (captchaPassed()) {
        clearInterval(check);
        form.submit();
      }
    }, 300);
  }

  if (!token) {
    ready();
    return;
  }
  if (!window.Worker || !window.crypto || !window.crypto.subtle) {
    document.getElementById('gate-error').hidden = false;
    return;
  }
  const progress = document.getElementById('gate-progress');
  const percent = document.getElementById('gate-percent');
  const expected = Math.pow(2, difficulty);
  const worker = new Worker(main.dataset.worker);
  worker.onmessage = function (event) {
    const msg = event.data;
    if (msg.failed) {
      document.getElementById('gate-error').hidden = false;
      return;
    }
    // The chance a solution was found by now, as a share: honest for a
    // search whose length is random.
    const share = msg.done ? 100 : Math.min(99, Math.round(100 * (1 - Math.exp(-msg.attempts / expected))));
    progress.value = share;
    percent.textContent = share + '%';
    if (msg.done) {
      main.dataset.solveMs = String(Math.round(msg.ms));
      main.dataset.attempts = String(msg.attempts);
      document.getElementById('gate-solution').value = msg.solution;
      worker.terminate();
      ready();
    }
  };
  worker.postMessage({ token: token, difficulty: difficulty });
})();
