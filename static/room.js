// Polls the room's status and moves on when the visitor's turn comes: the
// server re-checks the admission when the page reloads.
(function () {
  "use strict";
  var room = document.getElementById("room");
  if (!room) { return; }
  var statusURL = room.dataset.status;
  var poll = Math.max(1, parseInt(room.dataset.poll, 10) || 3) * 1000;
  var samples = []; // [time ms, serving] to estimate the pace

  function text(id, value) {
    var el = document.getElementById(id);
    if (el) { el.textContent = value; }
  }

  function eta(s) {
    samples.push([Date.now(), s.serving]);
    if (samples.length > 20) { samples.shift(); }
    var first = samples[0], last = samples[samples.length - 1];
    var moved = last[1] - first[1], ms = last[0] - first[0];
    if (s.paused) { return "paused"; }
    if (moved <= 0 || ms <= 0) { return "calculating…"; }
    var seconds = Math.round(s.ahead / (moved / (ms / 1000)));
    if (seconds < 60) { return "under a minute"; }
    return "about " + Math.round(seconds / 60) + " min";
  }

  function show(s) {
    text("serving", s.serving);
    text("ahead", s.ahead);
    text("eta", eta(s));
    var bar = document.getElementById("progress");
    if (bar) { bar.max = s.position; bar.value = Math.min(s.serving, s.position); }
    if (s.ready) {
      text("headline", "It's your turn");
      text("lead", "Taking you through…");
      window.location.reload();
      return true;
    }
    return false;
  }

  function tick() {
    fetch(statusURL, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (s && show(s)) { return; }
        setTimeout(tick, poll);
      })
      .catch(function () { setTimeout(tick, poll * 2); });
  }
  setTimeout(tick, poll);
})();
