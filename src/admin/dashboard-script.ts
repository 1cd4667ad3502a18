/**
 * The dashboard script (the style is in dashboard-style.ts, the markup in
 * dashboard-markup.ts, the script's helpers in dashboard-widgets.ts). It
 * polls /config (which lists the stream listeners too), /routes, /upstreams and /stats every second and renders with
 * DOM calls and textContent only: route ids, header values and reload errors
 * come from config files and are never parsed as HTML. Drain and undrain are
 * POSTs carrying the admin token in the Authorization header; the token is
 * never written into the page or a URL the page requests.
 */
import { WIDGETS } from './dashboard-widgets.js';
import { MIRRORS } from './dashboard-mirrors.js';

/** SCRIPT is the page's only script (allowed by hash in the CSP). Plain ES2020, no template literals. */
export const SCRIPT = `
'use strict';
(function () {
  var KEY = 'switchyard-admin-token';
  var REFRESH_MS = 1000;
  var token = null;
  var prevStats = null;
  var timer = 0;
  var generation = 0;

  function $(id) { return document.getElementById(id); }
${WIDGETS}${MIRRORS}
  // The token arrives once in ?token= (then leaves the address bar and history) or through the form.
  function readToken() {
    var params = new URLSearchParams(location.search);
    if (params.has('token')) {
      token = params.get('token');
      store(token);
      params.delete('token');
      var rest = params.toString();
      history.replaceState(null, '', location.pathname + (rest ? '?' + rest : '') + location.hash);
      return;
    }
    try { token = sessionStorage.getItem(KEY); } catch (e) { token = null; }
  }
  function store(value) {
    try { if (value) sessionStorage.setItem(KEY, value); else sessionStorage.removeItem(KEY); } catch (e) { /* storage disabled: keep it in memory */ }
  }

  function setStatus(state, text) {
    var s = $('status');
    s.setAttribute('data-status', state);
    s.textContent = text;
  }

  function call(method, path) {
    var headers = { accept: 'application/json' };
    if (token) headers.authorization = 'Bearer ' + token;
    return fetch(path, { method: method, headers: headers, cache: 'no-store', credentials: 'omit' }).then(function (res) {
      if (!res.ok) { var err = new Error(path + ': HTTP ' + res.status); err.status = res.status; throw err; }
      return res.json();
    });
  }
  function get(path) { return call('GET', path); }

  function describeMatch(r) {
    var parts = [];
    if (r.methods) parts.push(r.methods.join(','));
    parts.push((r.host ? r.host : '') + r.path);
    var kinds = [['headers', 'header ', ': '], ['query', 'query ', '='], ['cookies', 'cookie ', '=']];
    for (var i = 0; i < kinds.length; i++) {
      var obj = r[kinds[i][0]] || {};
      for (var k in obj) parts.push(kinds[i][1] + k + kinds[i][2] + obj[k]);
    }
    return parts.join('  ');
  }
  function show(v) { return typeof v === 'string' ? v : JSON.stringify(v); }

  function renderGateway(cfg, now) {
    var g = cfg.gateway || {};
    $('gateway-version').textContent = g.version || '\\u2013';
    var up = $('gateway-uptime');
    up.setAttribute('data-value', g.uptimeSeconds);
    up.textContent = duration(g.uptimeSeconds);
    $('gateway-started').textContent = utc(g.startedAt) + (g.pid ? ' \\u00b7 pid ' + g.pid : '');
    var st = cfg.store || { kind: 'memory', healthy: true };
    var storeEl = $('store');
    storeEl.setAttribute('data-kind', st.kind);
    storeEl.setAttribute('data-healthy', st.healthy);
    storeEl.className = st.kind === 'redis' ? (st.healthy ? 'store-up' : 'store-down') : '';
    storeEl.textContent = st.kind === 'redis' ? 'Redis ' + (st.healthy ? 'connected' : 'unreachable') : 'embedded (in-process, no Redis configured)';
    var certs = cfg.certificates || [];
    var body = $('certificates').tBodies[0];
    if (certs.length === 0) { body.replaceChildren(el('tr', null, el('td', { colspan: 4, 'class': 'empty' }, 'no TLS on the public listener'))); return; }
    body.replaceChildren.apply(body, certs.map(function (c) {
      var days = Math.floor((Date.parse(c.notAfter) - now) / 86400000);
      var cls = days < 0 ? 'cert-expired' : days < 14 ? 'cert-expiring' : '';
      return el('tr', { 'data-cert': c.cert },
        cell('cert', c.cert, 'mono'),
        cell('names', c.names.join(', ')),
        cell('not-after', utc(c.notAfter), cls),
        num('days-left', days, days < 0 ? 'expired' : days + ' days'));
    }));
  }

  function renderRestart(list) {
    var box = $('restart-required');
    var ul = $('restart-required-list');
    if (!list || list.length === 0) { box.hidden = true; ul.replaceChildren(); return; }
    box.hidden = false;
    ul.replaceChildren.apply(ul, list.map(function (n) {
      var text = n.key + ': running ' + show(n.running) + ', configured ' + show(n.configured) + (n.reason ? ' (' + n.reason + ')' : '');
      return el('li', { 'data-key': n.key }, el('code', null, text));
    }));
  }

  function renderLastChange(c, now) {
    var box = $('config-last-change');
    var ul = $('config-last-change-list');
    if (!c) {
      box.setAttribute('data-version', '');
      box.setAttribute('data-changed', 'false');
      box.textContent = 'none since start';
      ul.replaceChildren();
      return;
    }
    box.setAttribute('data-version', String(c.version));
    box.setAttribute('data-changed', c.changed ? 'true' : 'false');
    box.textContent = 'version ' + c.version + ', ' + utc(c.at) + ' (' + ago(now - Date.parse(c.at)) + '): ' + c.text;
    var items = c.flags.map(function (f) { return el('li', { 'data-kind': 'flag', 'class': 'flag' }, '! ' + f); })
      .concat(c.moves.map(function (m) { return el('li', { 'data-kind': 'move' }, m); }))
      .concat(c.files.map(function (f) { return el('li', { 'data-kind': 'file', 'class': 'muted' }, f); }));
    ul.replaceChildren.apply(ul, items);
  }

  function renderConfig(cfg, stats, totalRate, now) {
    $('config-version').textContent = String(cfg.version);
    var loaded = $('config-loaded-at');
    loaded.textContent = utc(cfg.loadedAt) + ' (' + ago(now - Date.parse(cfg.loadedAt)) + ')';
    loaded.setAttribute('data-value', cfg.loadedAt);
    renderLastChange(cfg.lastChange, now);
    var rej = $('config-rejected');
    var list = $('config-rejected-errors');
    var r = cfg.lastRejected;
    if (r) {
      rej.setAttribute('data-rejected', 'true');
      rej.setAttribute('data-superseded', r.superseded ? 'true' : 'false');
      list.setAttribute('data-superseded', r.superseded ? 'true' : 'false');
      rej.textContent = utc(r.at) + ' (' + ago(now - Date.parse(r.at)) + ')' + (r.superseded ? ' \\u2014 superseded by version ' + r.supersededBy : ' \\u2014 the files still hold this error');
      list.replaceChildren.apply(list, r.errors.map(function (e) { return el('li', null, e); }));
    } else {
      rej.setAttribute('data-rejected', 'false');
      rej.setAttribute('data-superseded', 'false');
      rej.textContent = 'none';
      list.replaceChildren();
    }
    var total = stats.total;
    var t = $('traffic-total');
    t.setAttribute('data-requests', total.requests);
    t.setAttribute('data-errors', total.errors5xx);
    t.textContent = fmtRate(totalRate ? totalRate.rps : null) + ' req/s, ' + fmtRate(totalRate ? totalRate.eps : null) + ' 5xx/s (' + total.requests + ' requests, ' + (total.errors4xx || 0) + ' 4xx, ' + total.errors5xx + ' 5xx since start)';
    var un = stats.unrouted || ZERO;
    var u = $('traffic-unrouted');
    u.setAttribute('data-value', un.requests);
    u.textContent = un.requests + ' (no route matched, or refused before routing)';
  }

  function trafficCells(counts, r, w) {
    var c = counts || ZERO;
    return [
      num('rps', r ? r.rps : '', fmtRate(r ? r.rps : null)),
      num('eps', r ? r.eps : '', fmtRate(r ? r.eps : null)),
      num('requests', c.requests),
      num('errors4xx', c.errors4xx || 0),
      num('status401', c.status401 || 0),
      num('status429', c.status429 || 0),
      num('errors', c.errors5xx),
      num('p50', w ? w.p50Ms : '', fmtMs(w ? w.p50Ms : null)),
      num('p99', w ? w.p99Ms : '', fmtMs(w ? w.p99Ms : null)),
    ];
  }

  // A gateway without stream listeners (or an older one without the field) shows a placeholder row.
  function renderStreams(streams) {
    var body = $('streams').tBodies[0];
    if (!streams || streams.length === 0) { body.replaceChildren(el('tr', null, el('td', { colspan: 9, 'class': 'empty' }, 'no stream listeners'))); return; }
    body.replaceChildren.apply(body, streams.map(function (s) {
      return el('tr', { 'data-listener': s.name, 'data-protocol': s.protocol },
        el('th', { scope: 'row' }, s.name),
        cell('protocol', s.protocol),
        cell('address', s.host + ':' + s.port),
        num('open', s.open),
        num('total', s.total || 0),
        num('refused', s.refused || 0),
        num('bytes-in', s.bytesIn || 0, fmtBytes(s.bytesIn || 0)),
        num('bytes-out', s.bytesOut || 0, fmtBytes(s.bytesOut || 0)),
        cell('routes', (s.routes || []).join(', ')));
    }));
  }

  function renderRoutes(routes, stats, dt) {
    var body = $('routes').tBodies[0];
    var win = stats.window;
    if (routes.length === 0) { body.replaceChildren(el('tr', null, el('td', { colspan: 15, 'class': 'empty' }, 'no routes'))); return; }
    body.replaceChildren.apply(body, routes.flatMap(function (r) {
      var w = win && win.routes[r.id];
      var tr = el('tr', { 'data-route': r.id, 'data-upstream': r.upstream },
        cell('id', el('code', null, r.id)),
        cell('match', describeMatch(r), 'mono'),
        cell('source', r.source, 'mono'),
        cell('chain', r.chain.length ? r.chain.join(' \\u2192 ') : '\\u2014'),
        cell('upstream', r.upstream));
      tr.append.apply(tr, trafficCells(stats.routes[r.id], rate(stats.routes, prevStats && prevStats.routes, r.id, dt), w));
      tr.append(el('td', null, win ? sparkline(w, win, stats.now) : null));
      return [tr].concat(splitRows(r));
    }));
  }

  // A split route's legs, one row each under the route: share of the cohorts, overrides, and live rates (the last 10 s, from /routes).
  function splitRows(r) {
    var s = r.split;
    if (!s) return [];
    return s.legs.map(function (leg) {
      var parts = [];
      if (leg.cohorts > 0) parts.push(leg.cohorts + '% of cohorts');
      s.overrides.forEach(function (o) { if (o.upstream === leg.upstream) parts.push('override ' + describeMatch({ path: '', methods: o.when.methods, host: o.when.host, headers: o.when.headers, query: o.when.query, cookies: o.when.cookies }).trim()); });
      if (leg.primary) parts.push('primary, fallback ' + s.fallback);
      if (leg.fallbacks > 0) parts.push(leg.fallbacks + ' fell back');
      if (leg.eligible === 0) parts.push('no healthy target');
      var by = s.by ? s.by : 'cookie ' + s.cookie;
      return el('tr', { 'class': 'split-leg', 'data-split-route': r.id, 'data-leg': leg.upstream, 'data-primary': leg.primary },
        el('td', { 'class': 'muted' }, '\u21b3 split'),
        el('td', { colspan: 3, 'data-field': 'split', 'title': 'cohort key: ' + by }, 'by ' + by + ' \u00b7 ' + parts.join(' \u00b7 ')),
        cell('upstream', leg.upstream),
        num('rps', leg.rps, fmtRate(leg.rps)),
        num('eps', leg.eps, fmtRate(leg.eps)),
        num('requests', leg.requests),
        el('td', { colspan: 3 }),
        num('errors', leg.errors5xx),
        el('td', { colspan: 3, 'class': 'muted' }, 'rates: last 10 s'));
    });
  }

  function lastCheck(t, now) {
    var c = t.lastCheck;
    if (!c) return el('td', { 'data-field': 'last-check', 'class': 'muted' }, 'no active check');
    var text = (c.ok ? 'ok' : 'failed') + (c.status ? ' ' + c.status : '') + (c.reason && !c.ok && c.reason !== 'status ' + c.status ? ' (' + c.reason + ')' : '') + ' \\u00b7 ' + c.durationMs + 'ms \\u00b7 ' + ago(now - Date.parse(c.at));
    return el('td', { 'data-field': 'last-check', 'data-ok': c.ok, 'title': utc(c.at), 'class': c.ok ? '' : 'check-fail' }, text);
  }

  function drainButton(u, t) {
    var action = t.draining ? 'undrain' : 'drain';
    var b = el('button', { type: 'button', 'class': 'drain', 'data-action': action, title: action === 'drain' ? 'Take this target out of rotation (in-flight requests finish)' : 'Put this target back into rotation' }, action === 'drain' ? 'Drain' : 'Undrain');
    b.addEventListener('click', function () {
      b.disabled = true;
      $('action-message').textContent = '';
      // The name and index go into the path encoded; the token only ever in the Authorization header.
      call('POST', '/upstreams/' + encodeURIComponent(u.name) + '/targets/' + encodeURIComponent(String(t.index)) + '/' + action).then(refresh, function (err) {
        if (err.status === 401) { store(null); token = null; showAuth('Draining needs the admin token.'); return; }
        $('action-message').textContent = action + ' ' + t.url + ' failed: ' + err.message;
        b.disabled = false;
      });
    });
    return b;
  }

  /** discoveryLine shows a discovered pool's provider: what it watches, its last good answer, its errors. */
  function discoveryLine(d, now) {
    var text = 'discovered from ' + d.kind + ' ' + d.subject + ' \\u00b7 ' + d.instances + ' instance' + (d.instances === 1 ? '' : 's') +
      ' \\u00b7 last answer ' + (d.lastSuccessAt ? ago(now - d.lastSuccessAt) : 'never') + ' \\u00b7 ' + d.errors + ' error' + (d.errors === 1 ? '' : 's') +
      (d.lastError ? ' \\u00b7 failing: ' + d.lastError : '');
    return el('p', { 'class': 'discovery muted' + (d.lastError ? ' check-fail' : ''), 'data-field': 'discovery', 'data-kind': d.kind, 'data-failing': d.lastError ? 'true' : 'false' }, text);
  }

  function renderUpstreams(upstreams, stats, dt) {
    var box = $('upstreams');
    var win = stats.window;
    if (upstreams.length === 0) { box.replaceChildren(el('p', { 'class': 'empty' }, 'no upstreams')); return; }
    box.replaceChildren.apply(box, upstreams.map(function (u) {
      var r = rate(stats.upstreams, prevStats && prevStats.upstreams, u.name, dt);
      var c = stats.upstreams[u.name] || ZERO;
      var w = win && win.upstreams[u.name];
      function span(field, value, text) { return el('span', { 'data-field': field, 'data-value': value === null || value === undefined ? '' : value }, text); }
      var traffic = el('span', { 'class': 'traffic' },
        span('rps', r ? r.rps : '', fmtRate(r ? r.rps : null)), ' req/s \\u00b7 ',
        span('eps', r ? r.eps : '', fmtRate(r ? r.eps : null)), ' 5xx/s \\u00b7 ',
        span('requests', c.requests, String(c.requests)), ' requests \\u00b7 ',
        span('errors4xx', c.errors4xx || 0, String(c.errors4xx || 0)), ' 4xx \\u00b7 ',
        span('errors', c.errors5xx, String(c.errors5xx)), ' 5xx \\u00b7 p50 ',
        span('p50', w ? w.p50Ms : '', fmtMs(w ? w.p50Ms : null)), ' \\u00b7 p99 ',
        span('p99', w ? w.p99Ms : '', fmtMs(w ? w.p99Ms : null)), ' ',
        win ? sparkline(w, win, stats.now) : null);
      var rows = u.targets.map(function (t) {
        var failures = String(t.consecutiveFailures) + (t.passive && t.passive.consecutiveFailures ? ' (passive ' + t.passive.consecutiveFailures + ')' : '');
        var stateCell = el('td', { 'data-field': 'state' }, el('span', { 'class': 'state state-' + t.state, 'title': t.ejectedUntil ? 'ejected until ' + utc(t.ejectedUntil) : null }, t.state));
        return el('tr', { 'data-upstream': u.name, 'data-target': t.url, 'data-index': t.index, 'data-state': t.state },
          cell('target', t.url, 'mono'),
          // Where the target came from: registry lease age, DNS TTL, or static (listed in a route file).
          cell('source', t.source || 'static', 'mono'),
          stateCell,
          num('weight', t.weight),
          lastCheck(t, stats.now),
          num('consecutive-failures', t.consecutiveFailures, failures),
          num('inflight', t.inflight, String(t.inflight) + (t.openWebSockets ? ' (' + t.openWebSockets + ' ws)' : '')),
          num('requests', t.requests),
          num('failures', t.failures),
          el('td', null, drainButton(u, t)));
      });
      var head = el('tr', null, el('th', null, 'Target'), el('th', null, 'Source'), el('th', null, 'State'), el('th', { 'class': 'num' }, 'Weight'), el('th', null, 'Last check'),
        el('th', { 'class': 'num' }, 'Consecutive failures'), el('th', { 'class': 'num' }, 'In flight'), el('th', { 'class': 'num' }, 'Attempts'), el('th', { 'class': 'num' }, 'Failed'), el('th', null, ''));
      return el('section', { 'class': 'upstream', 'data-upstream': u.name, 'data-panic': u.panic },
        traffic,
        el('h3', null, u.name),
        el('span', { 'class': 'meta muted' }, u.balancer + ' \\u00b7 ', el('span', { 'data-field': 'eligible', 'data-value': u.eligible }, u.eligible + '/' + u.targets.length + ' eligible')),
        u.panic ? el('span', { 'class': 'panic' }, 'PANIC: no healthy target, spreading over all') : null,
        u.discovery ? discoveryLine(u.discovery, stats.now) : null,
        el('table', null, el('thead', null, head), el('tbody', null, rows.length ? rows : [el('tr', null, el('td', { colspan: 10, 'class': 'empty' }, u.discovery ? 'no targets discovered yet' : 'no targets'))])));
    }));
  }

  function showAuth(message) {
    clearTimeout(timer);
    generation++;
    setStatus('unauthorized', 'admin token required');
    var form = $('auth');
    form.hidden = false;
    $('auth-message').textContent = message;
    $('token').focus();
  }

  function refresh() {
    clearTimeout(timer);
    var mine = ++generation;
    Promise.all([get('/config'), get('/routes'), get('/upstreams'), get('/stats')]).then(function (all) {
      if (mine !== generation) return;
      var stats = all[3];
      var dt = prevStats ? (stats.now - prevStats.now) / 1000 : 0;
      renderGateway(all[0], stats.now);
      renderRestart(all[0].restartRequired);
      renderConfig(all[0], stats, rate({ t: stats.total }, prevStats && { t: prevStats.total }, 't', dt), stats.now);
      renderRoutes(all[1].routes, stats, dt);
      renderMirrors(all[1].routes);
      renderStreams(all[0].streams);
      renderUpstreams(all[2].upstreams, stats, dt);
      prevStats = stats;
      setStatus('live', 'live');
      $('refreshed').textContent = 'updated ' + utc(stats.now);
      timer = setTimeout(refresh, REFRESH_MS);
    }, function (err) {
      if (mine !== generation) return;
      if (err.status === 401) {
        // A wrong or missing token: ask, and stop polling until one is given.
        store(null);
        showAuth(token ? 'The token was rejected.' : 'This admin API needs a token.');
        token = null;
        return;
      }
      setStatus('error', 'cannot reach the admin API: ' + err.message + ' (retrying)');
      timer = setTimeout(refresh, REFRESH_MS);
    });
  }

  $('auth').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var input = $('token');
    token = input.value;
    input.value = '';
    store(token);
    $('auth').hidden = true;
    setStatus('connecting', 'connecting\\u2026');
    refresh();
  });

  readToken();
  refresh();
})();
`;
