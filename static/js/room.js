// Waiting-room page: keeps the page current by polling the room's JSON
// status. Polls with jitter, backs off on errors, honours Retry-After and
// slows down while the tab is hidden. Without this script the page still
// works through its <noscript> refresh.
(function () {
  'use strict';

  var main = document.getElementById('main');
  if (!main || !main.getAttribute('data-status-url')) return;

  var statusURL = main.getAttribute('data-status-url');
  var current = {
    state: main.getAttribute('data-state'),
    ahead: null,
    announcedAt: 0
  };
  var failures = 0;
  var timer = null;
  var dueAt = 0;
  var leaving = false;

  var MAX_WAIT = 120;          // never wait longer than this between polls (s)
  var HIDDEN_FACTOR = 4;       // a hidden tab polls this much less often
  var ANNOUNCE_EVERY = 60000;  // at most one position announcement a minute (ms)
  var CONTINUE_AFTER = 1200;   // let "it's your turn" show (and be heard) before leaving (ms)

  function byId(id) { return document.getElementById(id); }

  function setText(id, text) {
    var el = byId(id);
    if (el && typeof text === 'string' && el.textContent !== text) el.textContent = text;
  }

  // schedule plans the next poll in about `seconds`, spread by ±20 % so that
  // thousands of pages opened together do not poll in step.
  function schedule(seconds) {
    var s = Math.max(1, Number(seconds) || 5);
    if (document.hidden) s = Math.max(s * HIDDEN_FACTOR, 30);
    s = Math.min(s, MAX_WAIT) * (0.8 + Math.random() * 0.4);
    clearTimeout(timer);
    dueAt = Date.now() + s * 1000;
    timer = setTimeout(poll, s * 1000);
  }

  function backoff() {
    return Math.min(MAX_WAIT, 2 * Math.pow(2, Math.min(failures, 6)));
  }

  // retryAfter reads a Retry-After header in seconds or as an HTTP date.
  function retryAfter(v) {
    if (!v) return null;
    if (/^\d+$/.test(v)) return Number(v);
    var at = Date.parse(v);
    return isNaN(at) ? null : Math.max(1, (at - Date.now()) / 1000);
  }

  function showConnectionProblem(show) {
    var el = byId('connection');
    if (el) el.hidden = !show;
  }

  function poll() {
    var req = new XMLHttpRequest();
    req.open('GET', statusURL, true);
    req.setRequestHeader('Accept', 'application/json');
    req.timeout = 15000;
    req.onload = function () { handle(req); };
    req.onerror = req.ontimeout = function () { fail(null); };
    req.send();
  }

  function handle(req) {
    var wait = retryAfter(req.getResponseHeader('Retry-After'));
    if (req.status !== 200) { fail(wait); return; }
    var s;
    try { s = JSON.parse(req.responseText); } catch (e) { fail(wait); return; }
    failures = 0;
    showConnectionProblem(false);
    apply(s);
    if (!leaving) schedule(wait !== null ? wait : s.poll_after_seconds);
  }

  function fail(wait) {
    failures++;
    if (failures >= 2) showConnectionProblem(true);
    schedule(wait !== null ? wait : backoff());
  }

  function apply(s) {
    var t = s.text || {};
    var changed = s.state !== current.state;
    if ((s.state === 'waiting' || s.state === 'paused') && !s.position) {
      // The room just opened and this visitor has no place yet: let the
      // server give them one.
      leaving = true;
      window.location.reload();
      return;
    }
    main.setAttribute('data-state', s.state);
    setText('state-title', t.title);
    setText('state-body', t.body);
    setText('position', t.position);
    setText('ahead', t.ahead);
    setText('wait', t.wait);
    setText('progress-text', t.progress);
    setText('opens', t.opens_at);
    setTime('expected', s.expected_at || '', t.expected || '');
    setTime('updated', s.updated_at || '', t.updated || '');
    localTime();
    var bar = byId('progress');
    if (bar) bar.value = Math.floor((s.progress || 0) * 100);
    var cont = byId('continue');
    if (cont && s.continue_url) cont.setAttribute('href', s.continue_url);

    announce(s, changed);
    current.state = s.state;
    current.ahead = s.ahead;
    if (s.state === 'your_turn' && s.continue_url) go(s.continue_url);
  }

  // announce tells screen readers about a new state at once, and about a
  // moving position at most once a minute (and when nobody is left ahead).
  function announce(s, changed) {
    var t = s.text || {};
    var now = Date.now();
    var msg = null;
    if (changed) {
      msg = t.title;
    } else if (s.ahead !== current.ahead && current.ahead !== null &&
               (s.ahead === 0 || now - current.announcedAt >= ANNOUNCE_EVERY)) {
      msg = t.announce;
    }
    if (current.announcedAt === 0) current.announcedAt = now;
    if (!msg) return;
    current.announcedAt = now;
    setText('announce', msg);
  }

  function go(url) {
    if (leaving) return;
    leaving = true;
    clearTimeout(timer);
    setTimeout(function () { window.location.assign(url); }, CONTINUE_AFTER);
  }

  // setTime puts a new time (ISO) and its server wording on a <time>.
  function setTime(id, iso, text) {
    var el = byId(id);
    if (!el) return;
    el.setAttribute('datetime', iso);
    setText(id, text);
  }

  // localTime words the times in the visitor's time zone and language
  // (the server can only give them in UTC): the opening in full, the
  // expected turn and the last update as a clock time.
  function localTime() {
    if (typeof Intl === 'undefined') return;
    var lang = document.documentElement.lang;
    var full = { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' };
    var clock = { hour: '2-digit', minute: '2-digit' };
    [['opens', full], ['expected', clock], ['updated', { hour: '2-digit', minute: '2-digit', second: '2-digit' }]].forEach(function (f) {
      var el = byId(f[0]);
      var tpl = el && el.getAttribute('data-template');
      var at = el && Date.parse(el.getAttribute('datetime'));
      if (!tpl || !at) return;
      try {
        setText(f[0], tpl.replace('{time}', new Intl.DateTimeFormat(lang, f[1]).format(new Date(at))));
      } catch (e) { /* keep the server's wording */ }
    });
  }

  document.addEventListener('visibilitychange', function () {
    if (!document.hidden && !leaving && dueAt - Date.now() > 2000) schedule(1);
  });

  current.ahead = null;
  localTime();
  if (current.state === 'your_turn') {
    var cont = byId('continue');
    if (cont && cont.getAttribute('href') !== '#') { go(cont.getAttribute('href')); return; }
  }
  schedule(Number(main.getAttribute('data-poll')) || 5);
})();
