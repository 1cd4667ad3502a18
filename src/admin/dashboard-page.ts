/**
 * The dashboard document: markup, style and the client script, as constants.
 * The script polls /config, /routes, /upstreams and /stats every second and
 * renders with DOM calls and textContent only: route ids, header values and
 * reload errors come from config files and are never parsed as HTML.
 *
 * Elements tests (and people with devtools) can rely on:
 *   #status[data-status=connecting|live|error|unauthorized]
 *   #config-version, #config-loaded-at, #config-rejected[data-rejected]
 *   #routes tr[data-route=ID] td[data-field=match|source|chain|upstream|rps|eps|requests|errors]
 *   section[data-upstream=NAME] [data-field=rps|eps|requests|errors|eligible]
 *   tr[data-upstream=NAME][data-target=URL][data-state=healthy|unhealthy|ejected|draining]
 *     td[data-field=state|last-check|consecutive-failures|inflight|requests|failures]
 *   #auth (the token form, shown after a 401)
 * Numeric cells carry their value in data-value (rates: "" until two samples exist).
 */

/** STYLE is the page's only stylesheet (allowed by hash in the CSP). */
export const STYLE = `
:root { color-scheme: light dark; --ok: #1a7f37; --bad: #cf222e; --warn: #bc4c00; --idle: #6e7781; --line: #d0d7de; --muted: #57606a; }
@media (prefers-color-scheme: dark) { :root { --ok: #3fb950; --bad: #f85149; --warn: #db6d28; --idle: #8b949e; --line: #30363d; --muted: #8b949e; } }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; padding: 0 1.5rem 2rem; }
header { display: flex; align-items: baseline; gap: 1rem; border-bottom: 1px solid var(--line); padding: .75rem 0; }
h1 { font-size: 1.25rem; margin: 0; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
h3 { font-size: 1rem; margin: 0; display: inline; }
.muted, #refreshed { color: var(--muted); }
#status::before { content: "\\25CF  "; }
#status[data-status=live] { color: var(--ok); }
#status[data-status=error], #status[data-status=unauthorized] { color: var(--bad); }
#status[data-status=connecting] { color: var(--idle); }
form#auth { margin: 1rem 0; padding: .75rem; border: 1px solid var(--bad); border-radius: 6px; display: flex; gap: .5rem; align-items: center; }
form#auth[hidden] { display: none; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; }
#config-rejected[data-rejected=true] { color: var(--bad); }
#config-rejected-errors { margin: .25rem 0 0; padding-left: 1.25rem; color: var(--bad); font-family: ui-monospace, monospace; white-space: pre-wrap; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; }
.upstream { border: 1px solid var(--line); border-radius: 6px; padding: .75rem; margin: .75rem 0; }
.upstream .meta { margin-left: .75rem; }
.upstream .traffic { float: right; }
.upstream table { margin-top: .5rem; }
.state { font-weight: 600; white-space: nowrap; }
.state::before { content: "\\25CF  "; }
.state-healthy { color: var(--ok); }
.state-unhealthy { color: var(--bad); }
.state-ejected { color: var(--warn); }
.state-draining { color: var(--idle); }
.panic { color: var(--bad); font-weight: 600; margin-left: .5rem; }
.check-fail { color: var(--bad); }
.empty { color: var(--muted); font-style: italic; }
`;

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
  function num(field, value, text) { return el('td', { 'data-field': field, 'data-value': value, 'class': 'num' }, text === undefined ? String(value) : text); }

  function setStatus(state, text) {
    var s = $('status');
    s.setAttribute('data-status', state);
    s.textContent = text;
  }

  function get(path) {
    var headers = { accept: 'application/json' };
    if (token) headers.authorization = 'Bearer ' + token;
    return fetch(path, { headers: headers, cache: 'no-store', credentials: 'omit' }).then(function (res) {
      if (!res.ok) { var err = new Error(path + ': HTTP ' + res.status); err.status = res.status; throw err; }
      return res.json();
    });
  }

  function rate(cur, prev, key, dt) {
    if (!prev || !(dt > 0)) return null;
    var before = prev[key] ? prev[key] : { requests: 0, errors5xx: 0 };
    var now = cur[key] ? cur[key] : { requests: 0, errors5xx: 0 };
    return { rps: Math.max(0, now.requests - before.requests) / dt, eps: Math.max(0, now.errors5xx - before.errors5xx) / dt };
  }
  function fmtRate(r) { return r === null ? '\\u2013' : r.toFixed(r >= 100 ? 0 : 1); }
  function rateCells(counts, r) {
    var c = counts || { requests: 0, errors5xx: 0 };
    return [
      num('rps', r ? r.rps : '', fmtRate(r ? r.rps : null)),
      num('eps', r ? r.eps : '', fmtRate(r ? r.eps : null)),
      num('requests', c.requests),
      num('errors', c.errors5xx),
    ];
  }
  function ago(ms) {
    if (!(ms >= 0)) return '';
    if (ms < 1000) return 'just now';
    var s = Math.round(ms / 1000);
    return s < 120 ? s + 's ago' : Math.round(s / 60) + 'm ago';
  }

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

  function renderConfig(cfg, total, totalRate, now) {
    $('config-version').textContent = String(cfg.version);
    var loaded = $('config-loaded-at');
    loaded.textContent = cfg.loadedAt + ' (' + ago(now - Date.parse(cfg.loadedAt)) + ')';
    loaded.setAttribute('data-value', cfg.loadedAt);
    var rej = $('config-rejected');
    var list = $('config-rejected-errors');
    if (cfg.lastRejected) {
      rej.setAttribute('data-rejected', 'true');
      rej.textContent = cfg.lastRejected.at + ' (' + ago(now - Date.parse(cfg.lastRejected.at)) + ')';
      list.replaceChildren.apply(list, cfg.lastRejected.errors.map(function (e) { return el('li', null, e); }));
    } else {
      rej.setAttribute('data-rejected', 'false');
      rej.textContent = 'none';
      list.replaceChildren();
    }
    var t = $('traffic-total');
    t.setAttribute('data-requests', total.requests);
    t.setAttribute('data-errors', total.errors5xx);
    t.textContent = fmtRate(totalRate ? totalRate.rps : null) + ' req/s, ' + fmtRate(totalRate ? totalRate.eps : null) + ' 5xx/s (' + total.requests + ' requests, ' + total.errors5xx + ' 5xx since start)';
  }

  function renderRoutes(routes, stats, dt) {
    var body = $('routes').tBodies[0];
    if (routes.length === 0) { body.replaceChildren(el('tr', null, el('td', { colspan: 9, 'class': 'empty' }, 'no routes'))); return; }
    body.replaceChildren.apply(body, routes.map(function (r) {
      var tr = el('tr', { 'data-route': r.id, 'data-upstream': r.upstream },
        cell('id', el('code', null, r.id)),
        cell('match', describeMatch(r), 'mono'),
        cell('source', r.source, 'mono'),
        cell('chain', r.chain.length ? r.chain.join(' \\u2192 ') : '\\u2014'),
        cell('upstream', r.upstream));
      tr.append.apply(tr, rateCells(stats.routes[r.id], rate(stats.routes, prevStats && prevStats.routes, r.id, dt)));
      return tr;
    }));
  }

  function lastCheck(t, now) {
    var c = t.lastCheck;
    if (!c) return el('td', { 'data-field': 'last-check', 'class': 'muted' }, 'no active check');
    var text = (c.ok ? 'ok' : 'failed') + (c.status ? ' ' + c.status : '') + (c.reason && !c.ok && c.reason !== 'status ' + c.status ? ' (' + c.reason + ')' : '') + ' \\u00b7 ' + c.durationMs + 'ms \\u00b7 ' + ago(now - Date.parse(c.at));
    return el('td', { 'data-field': 'last-check', 'data-ok': c.ok, 'title': c.at, 'class': c.ok ? '' : 'check-fail' }, text);
  }

  function renderUpstreams(upstreams, stats, dt) {
    var box = $('upstreams');
    if (upstreams.length === 0) { box.replaceChildren(el('p', { 'class': 'empty' }, 'no upstreams')); return; }
    box.replaceChildren.apply(box, upstreams.map(function (u) {
      var r = rate(stats.upstreams, prevStats && prevStats.upstreams, u.name, dt);
      var c = stats.upstreams[u.name] || { requests: 0, errors5xx: 0 };
      var traffic = el('span', { 'class': 'traffic' },
        el('span', { 'data-field': 'rps', 'data-value': r ? r.rps : '' }, fmtRate(r ? r.rps : null)), ' req/s \\u00b7 ',
        el('span', { 'data-field': 'eps', 'data-value': r ? r.eps : '' }, fmtRate(r ? r.eps : null)), ' 5xx/s \\u00b7 ',
        el('span', { 'data-field': 'requests', 'data-value': c.requests }, String(c.requests)), ' requests \\u00b7 ',
        el('span', { 'data-field': 'errors', 'data-value': c.errors5xx }, String(c.errors5xx)), ' 5xx');
      var rows = u.targets.map(function (t) {
        var failures = String(t.consecutiveFailures) + (t.passive && t.passive.consecutiveFailures ? ' (passive ' + t.passive.consecutiveFailures + ')' : '');
        var stateCell = el('td', { 'data-field': 'state' }, el('span', { 'class': 'state state-' + t.state, 'title': t.ejectedUntil ? 'ejected until ' + t.ejectedUntil : null }, t.state));
        return el('tr', { 'data-upstream': u.name, 'data-target': t.url, 'data-index': t.index, 'data-state': t.state },
          cell('target', t.url, 'mono'),
          stateCell,
          num('weight', t.weight),
          lastCheck(t, stats.now),
          num('consecutive-failures', t.consecutiveFailures, failures),
          num('inflight', t.inflight, String(t.inflight) + (t.openWebSockets ? ' (' + t.openWebSockets + ' ws)' : '')),
          num('requests', t.requests),
          num('failures', t.failures));
      });
      var head = el('tr', null, el('th', null, 'Target'), el('th', null, 'State'), el('th', { 'class': 'num' }, 'Weight'), el('th', null, 'Last check'),
        el('th', { 'class': 'num' }, 'Consecutive failures'), el('th', { 'class': 'num' }, 'In flight'), el('th', { 'class': 'num' }, 'Attempts'), el('th', { 'class': 'num' }, 'Failed'));
      return el('section', { 'class': 'upstream', 'data-upstream': u.name, 'data-panic': u.panic },
        traffic,
        el('h3', null, u.name),
        el('span', { 'class': 'meta muted' }, u.balancer + ' \\u00b7 ', el('span', { 'data-field': 'eligible', 'data-value': u.eligible }, u.eligible + '/' + u.targets.length + ' eligible')),
        u.panic ? el('span', { 'class': 'panic' }, 'PANIC: no healthy target, spreading over all') : null,
        el('table', null, el('thead', null, head), el('tbody', null, rows.length ? rows : [el('tr', null, el('td', { colspan: 8, 'class': 'empty' }, 'no targets'))])));
    }));
  }

  function showAuth(message) {
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
      renderConfig(all[0], stats.total, rate({ t: stats.total }, prevStats && { t: prevStats.total }, 't', dt), stats.now);
      renderRoutes(all[1].routes, stats, dt);
      renderUpstreams(all[2].upstreams, stats, dt);
      prevStats = stats;
      setStatus('live', 'live');
      $('refreshed').textContent = 'updated ' + new Date().toLocaleTimeString();
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

/** BODY is the static markup; every dynamic part is filled in by SCRIPT. */
export const BODY = `<header>
<h1>Switchyard</h1>
<span id="status" data-status="connecting">connecting\u2026</span>
<span id="refreshed"></span>
</header>
<form id="auth" hidden>
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required>
<button type="submit">Connect</button>
<span id="auth-message" class="muted"></span>
</form>
<main>
<section id="config-panel">
<h2>Configuration</h2>
<dl>
<dt>Version</dt><dd id="config-version">\u2013</dd>
<dt>Loaded at</dt><dd id="config-loaded-at">\u2013</dd>
<dt>Last rejected reload</dt><dd id="config-rejected" data-rejected="false">\u2013</dd>
<dt>Traffic</dt><dd id="traffic-total">\u2013</dd>
</dl>
<ul id="config-rejected-errors"></ul>
</section>
<section>
<h2>Routes</h2>
<table id="routes">
<thead><tr><th>Route</th><th>Match</th><th>Source</th><th>Chain</th><th>Upstream</th><th class="num">Req/s</th><th class="num">5xx/s</th><th class="num">Requests</th><th class="num">5xx</th></tr></thead>
<tbody></tbody>
</table>
</section>
<section>
<h2>Upstreams</h2>
<div id="upstreams"></div>
</section>
</main>`;
