// Control panel: keeps the live counters and the last-hour chart of a room
// current, and ties the "advance by" slider to its number field. The chart
// is plain inline SVG drawn here: no third-party code.
(function () {
  'use strict';

  var SVG = 'http://www.w3.org/2000/svg';

  function syncSlider() {
    var range = document.getElementById('advance-by-range');
    var num = document.getElementById('advance-by');
    if (!range || !num) return;
    range.addEventListener('input', function () { num.value = range.value; });
    num.addEventListener('input', function () {
      if (Number(num.value) <= Number(range.max)) range.value = num.value;
    });
  }

  function el(name, attrs, text) {
    var e = document.createElementNS(SVG, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function path(points) {
    return points.map(function (p, i) { return (i ? 'L' : 'M') + p[0].toFixed(1) + ' ' + p[1].toFixed(1); }).join(' ');
  }

  // barScale is the height the admission bars are drawn to: the largest
  // ordinary value, so that one manual jump (a thousand let in at once)
  // does not flatten every other bar. Values far above the usual ones
  // (eight times the 90th percentile) are cut off and labelled.
  function barScale(history) {
    var v = history.map(function (s) { return s.admitted_per_minute; }).filter(function (a) { return a > 0; }).sort(function (a, b) { return a - b; });
    if (!v.length) return 1;
    var p90 = v[Math.min(v.length - 1, Math.floor(v.length * 0.9))];
    var cap = p90 * 8;
    var max = 1;
    v.forEach(function (a) { if (a <= cap) max = Math.max(max, a); });
    return max;
  }

  // draw renders queue length and serving counter as lines over the last
  // hour, with admissions per minute as bars in a band below.
  function draw(box, history, fmt) {
    if (!history || history.length < 2) return;
    // Drawn at the box's own width, so labels keep their size on phones.
    var W = Math.max(280, Math.round(box.clientWidth || 640)), H = 240, L = 56, R = 8, T = 10, lineH = 150, gap = 24, barH = 44;
    var t1 = Date.parse(history[history.length - 1].t);
    var t0 = Math.min(Date.parse(history[0].t), t1 - 60000);
    var maxY = 1, maxA = barScale(history);
    history.forEach(function (s) {
      maxY = Math.max(maxY, s.queue, s.serving);
    });
    function x(s) { return L + (Date.parse(s.t) - t0) / (t1 - t0) * (W - L - R); }
    function y(v) { return T + lineH - v / maxY * lineH; }
    var svg = el('svg', { viewBox: '0 0 ' + W + ' ' + H, 'aria-hidden': 'true', focusable: 'false' });
    svg.appendChild(el('line', { x1: L, y1: T + lineH, x2: W - R, y2: T + lineH, class: 'axis' }));
    svg.appendChild(el('line', { x1: L, y1: T, x2: L, y2: T + lineH, class: 'axis' }));
    svg.appendChild(el('text', { x: L - 6, y: T + 10, 'text-anchor': 'end' }, fmt.format(maxY)));
    svg.appendChild(el('text', { x: L - 6, y: T + lineH, 'text-anchor': 'end' }, '0'));
    svg.appendChild(el('path', { d: path(history.map(function (s) { return [x(s), y(s.queue)]; })), class: 'queue' }));
    svg.appendChild(el('path', { d: path(history.map(function (s) { return [x(s), y(s.serving)]; })), class: 'serving' }));
    var base = T + lineH + gap + barH;
    svg.appendChild(el('line', { x1: L, y1: base, x2: W - R, y2: base, class: 'axis' }));
    svg.appendChild(el('text', { x: L - 6, y: base - barH + 10, 'text-anchor': 'end' }, fmt.format(Math.round(maxA))));
    var bw = Math.max(1.5, (W - L - R) / history.length - 1);
    var clipped = box.getAttribute('data-clipped') || '{n}';
    history.forEach(function (s) {
      var a = s.admitted_per_minute;
      var h = Math.min(a, maxA) / maxA * barH;
      if (h <= 0) return;
      var cut = a > maxA;
      svg.appendChild(el('rect', { x: x(s) - bw, y: base - h, width: bw, height: h, class: cut ? 'admitted clipped' : 'admitted' }));
      if (cut) {
        svg.appendChild(el('text', { x: Math.min(x(s), W - R), y: base - barH - 4, 'text-anchor': 'end', class: 'clip-label' },
          '\u2191 ' + clipped.replace('{n}', fmt.format(Math.round(a)))));
      }
    });
    var time = new Intl.DateTimeFormat(document.documentElement.lang, { hour: '2-digit', minute: '2-digit' });
    svg.appendChild(el('text', { x: L, y: H - 2 }, time.format(new Date(t0))));
    svg.appendChild(el('text', { x: W - R, y: H - 2, 'text-anchor': 'end' }, time.format(new Date(t1))));

    var legend = document.createElement('ul');
    legend.className = 'legend';
    [['queue', '#7a3db8'], ['serving', '#1d5fb8'], ['admitted', '#2f9e63']].forEach(function (k) {
      var li = document.createElement('li');
      var sw = document.createElement('span');
      sw.style.background = k[1];
      li.appendChild(sw);
      li.appendChild(document.createTextNode(box.getAttribute('data-' + k[0])));
      legend.appendChild(li);
    });
    box.replaceChildren(svg, legend);
  }

  function live() {
    var section = document.getElementById('live');
    var box = document.getElementById('chart');
    if (!section || !box) return;
    var url = section.getAttribute('data-stats-url');
    var fmt = new Intl.NumberFormat(document.documentElement.lang);
    var rateFmt = new Intl.NumberFormat(document.documentElement.lang, { maximumFractionDigits: 1 });
    function set(k, v) {
      var dd = section.querySelector('[data-k="' + k + '"]');
      if (dd) dd.textContent = v;
    }
    var last = null;
    window.addEventListener('resize', function () { if (last) draw(box, last, fmt); });
    function refresh() {
      var req = new XMLHttpRequest();
      req.open('GET', url, true);
      req.setRequestHeader('Accept', 'application/json');
      req.onload = function () {
        if (req.status === 200) {
          var s = JSON.parse(req.responseText);
          var c = s.counters;
          set('queue', fmt.format(c.queue));
          set('serving', fmt.format(c.serving));
          set('in_line', fmt.format(s.in_line));
          set('admitted_not_arrived', fmt.format(s.admitted_not_arrived));
          set('active', fmt.format(s.active));
          set('tokens', fmt.format(c.tokens));
          set('expired', fmt.format(c.expired));
          set('completed', fmt.format(c.completed));
          set('abandoned', fmt.format(c.abandoned));
          set('rate', s.admissions_per_minute === null ? '–' : rateFmt.format(s.admissions_per_minute));
          var gated = document.getElementById('gated');
          if (gated) gated.hidden = !s.gated;
          last = s.history;
          draw(box, last, fmt);
        }
        setTimeout(refresh, document.hidden ? 30000 : 5000);
      };
      req.onerror = function () { setTimeout(refresh, 15000); };
      req.send();
    }
    refresh();
  }

  // inletFields shows only the fields of the chosen inlet strategy.
  function inletFields() {
    var select = document.getElementById('i-strategy');
    if (!select) return;
    var form = select.form;
    function show() {
      form.querySelectorAll('[data-for]').forEach(function (e) {
        e.hidden = e.getAttribute('data-for') !== select.value;
      });
    }
    select.addEventListener('change', show);
    show();
  }

  syncSlider();
  inletFields();
  live();
})();
