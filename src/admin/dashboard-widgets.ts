/**
 * The dashboard script's building blocks, pasted into SCRIPT's closure
 * (dashboard-script.ts): DOM construction that only ever appends text nodes,
 * UTC time formatting (one time zone on the whole page, labelled), rates from
 * two snapshots, and the 5-minute sparklines drawn as SVG built node by node.
 * Plain ES2020, no template literals (the page's CSP hashes the exact text).
 */

/** WIDGETS is script text defining el, cell, num, utc, duration, ago, rate, fmtRate, windowRates and sparkline. */
export const WIDGETS = `
  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) node.setAttribute(k, String(attrs[k]));
    // Children are nodes or text (appended as Text nodes, never parsed), or arrays of them.
    var kids = Array.prototype.slice.call(arguments, 2).flat();
    for (var i = 0; i < kids.length; i++) {
      var child = kids[i];
      if (child === undefined || child === null) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }
  function cell(field, text, cls) { return el('td', { 'data-field': field, 'class': cls }, text); }
  function num(field, value, text) { return el('td', { 'data-field': field, 'data-value': value === null ? '' : value, 'class': 'num' }, text === undefined ? String(value) : text); }

  // Every time on the page is UTC, written the same way and labelled.
  function utc(iso) {
    var t = typeof iso === 'number' ? iso : Date.parse(iso);
    if (!(t >= 0)) return '\\u2013';
    return new Date(t).toISOString().replace('T', ' ').replace(/\\.\\d+Z$/, '') + ' UTC';
  }
  function duration(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    var d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    if (d > 0) return d + 'd ' + h + 'h';
    if (h > 0) return h + 'h ' + m + 'm';
    if (m > 0) return m + 'm ' + (s % 60) + 's';
    return s + 's';
  }
  function ago(ms) {
    if (!(ms >= 0)) return '';
    if (ms < 1000) return 'just now';
    return duration(ms / 1000) + ' ago';
  }

  var ZERO = { requests: 0, errors5xx: 0, errors4xx: 0, status401: 0, status429: 0 };
  function rate(cur, prev, key, dt) {
    if (!prev || !(dt > 0)) return null;
    var before = prev[key] ? prev[key] : ZERO;
    var now = cur[key] ? cur[key] : ZERO;
    return { rps: Math.max(0, now.requests - before.requests) / dt, eps: Math.max(0, now.errors5xx - before.errors5xx) / dt };
  }
  function fmtRate(r) { return r === null || r === undefined ? '\\u2013' : r.toFixed(r >= 100 ? 0 : 1); }
  function fmtBytes(n) {
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(n) : n.toFixed(n >= 100 ? 0 : 1)) + ' ' + units[i];
  }
  function fmtMs(v) { return v === null || v === undefined ? '\\u2013' : (v >= 100 ? Math.round(v) : v.toFixed(1)) + ' ms'; }

  // A window's per-slot counts as per-second rates; the newest slot is still filling, so it is divided by its elapsed time.
  function windowRates(counts, win, now) {
    var step = win.stepMs / 1000;
    var elapsed = Math.max(1, Math.min(step, (now - (win.end - win.stepMs)) / 1000));
    return counts.map(function (c, i) { return c / (i === counts.length - 1 ? elapsed : step); });
  }

  var SVG = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    for (var k in attrs) node.setAttribute(k, String(attrs[k]));
    return node;
  }
  // sparkline draws req/s (and 5xx/s) over the window, oldest left; data-requests and data-errors carry the slot counts.
  function sparkline(w, win, now) {
    var W = 120, H = 22;
    var box = el('span', { 'data-field': 'history', 'data-requests': w ? w.requests.join(',') : '', 'data-errors': w ? w.errors5xx.join(',') : '', 'title': 'req/s (green) and 5xx/s (red), last ' + Math.round(win.stepMs * (w ? w.requests.length : 0) / 60000) + ' minutes' });
    if (!w) return box;
    var req = windowRates(w.requests, win, now), err = windowRates(w.errors5xx, win, now);
    var max = Math.max.apply(null, req.concat([0.1]));
    function points(series) {
      return series.map(function (v, i) { return (i * W / (series.length - 1)).toFixed(1) + ',' + (H - (v / max) * (H - 2) - 1).toFixed(1); }).join(' ');
    }
    var s = svg('svg', { 'class': 'spark', width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img' });
    s.append(svg('polyline', { 'class': 'spark-req', points: points(req) }), svg('polyline', { 'class': 'spark-err', points: points(err) }));
    box.append(s, ' ' + fmtRate(req[req.length - 1]) + '/s');
    return box;
  }
`;
