/**
 * The dashboard's static markup. Every dynamic part is filled in by the
 * script (dashboard-script.ts), which finds these elements by id.
 *
 * Elements tests (and people with devtools) can rely on:
 *   #status[data-status=connecting|live|error|unauthorized]
 *   #gateway-version, #gateway-uptime[data-value=seconds], #gateway-started, #store[data-kind][data-healthy]
 *   #certificates tr[data-cert=FILE] td[data-field=names|not-after|days-left]
 *   #restart-required[hidden] li[data-key=KEY] (running and configured values)
 *   #config-version, #config-loaded-at, #config-rejected[data-rejected][data-superseded]
 *   #config-last-change[data-version][data-changed] (the last applied reload's diff summary), its
 *     #config-last-change-list li[data-kind=flag|move|file] (flags first, marked "!")
 *   #traffic-total[data-requests][data-errors], #traffic-unrouted[data-value]
 *   #routes tr[data-route=ID] td[data-field=match|source|chain|upstream|rps|eps|requests|errors|errors4xx|status401|status429|p50|p99|history]
 *   #routes tr.split-leg[data-split-route=ID][data-leg=UPSTREAM][data-primary] td[data-field=split|upstream|rps|eps|requests|errors]
 *     (one row per leg of a route's canary split, under the route's row; rates over the last 10 seconds)
 *   section[data-upstream=NAME] [data-field=rps|eps|requests|errors|errors4xx|p50|p99|history|eligible]
 *   tr[data-upstream=NAME][data-target=URL][data-state=healthy|unhealthy|ejected|draining]
 *     td[data-field=state|last-check|consecutive-failures|inflight|requests|failures]
 *     button[data-action=drain|undrain]
 *   #streams tr[data-listener=NAME][data-protocol=tcp|tls-passthrough|udp]
 *     td[data-field=protocol|address|open|total|refused|bytes-in|bytes-out|routes]
 *   #auth (the token form, shown after a 401), #action-message (a failed drain/undrain)
 *   #mirrors: see dashboard-mirrors.ts
 * Numeric cells carry their value in data-value (rates and percentiles: "" until known).
 */

import { MIRRORS_MARKUP } from './dashboard-mirrors.js';

/** BODY is the static markup; every dynamic part is filled in by SCRIPT. */
export const BODY = `<header>
<h1>Switchyard</h1>
<span id="status" data-status="connecting">connecting\u2026</span>
<span id="refreshed"></span>
<span class="muted">all times UTC</span>
</header>
<form id="auth" hidden>
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required>
<button type="submit">Connect</button>
<span id="auth-message" class="muted"></span>
</form>
<div id="restart-required" role="alert" hidden>
<strong>Restart required:</strong> these configured changes are not in effect; the running values stay until the gateway restarts (or the files are changed back).
<ul id="restart-required-list"></ul>
</div>
<main>
<section id="gateway-panel">
<h2>Gateway</h2>
<dl>
<dt>Version</dt><dd id="gateway-version">\u2013</dd>
<dt>Uptime</dt><dd id="gateway-uptime">\u2013</dd>
<dt>Started</dt><dd id="gateway-started">\u2013</dd>
<dt>Store</dt><dd id="store">\u2013</dd>
</dl>
<table id="certificates">
<thead><tr><th>Certificate</th><th>Names</th><th>Expires</th><th class="num">Left</th></tr></thead>
<tbody></tbody>
</table>
</section>
<section id="config-panel">
<h2>Configuration</h2>
<dl>
<dt>Version</dt><dd id="config-version">\u2013</dd>
<dt>Loaded at</dt><dd id="config-loaded-at">\u2013</dd>
<dt>Last applied change</dt><dd id="config-last-change" data-version="" data-changed="false">\u2013</dd>
<dt>Last rejected reload</dt><dd id="config-rejected" data-rejected="false" data-superseded="false">\u2013</dd>
<dt>Traffic</dt><dd id="traffic-total">\u2013</dd>
<dt>Unrouted</dt><dd id="traffic-unrouted">\u2013</dd>
</dl>
<ul id="config-last-change-list"></ul>
<ul id="config-rejected-errors"></ul>
</section>
<section>
<h2>Routes</h2>
<p class="muted">Counts since start; p50/p99 and the history cover the last 5 minutes.</p>
<table id="routes">
<thead><tr><th>Route</th><th>Match</th><th>Source</th><th>Chain</th><th>Upstream</th><th class="num">Req/s</th><th class="num">5xx/s</th><th class="num">Requests</th><th class="num">4xx</th><th class="num">401</th><th class="num">429</th><th class="num">5xx</th><th class="num">p50</th><th class="num">p99</th><th>Last 5 min</th></tr></thead>
<tbody></tbody>
</table>
</section>
${MIRRORS_MARKUP}
<section>
<h2>Streams</h2>
<p class="muted">Layer-4 listeners. Open: connections (udp: sessions) now; total, refused and bytes: connections ended since start.</p>
<table id="streams">
<thead><tr><th>Listener</th><th>Protocol</th><th>Address</th><th class="num">Open</th><th class="num">Total</th><th class="num">Refused</th><th class="num">Bytes in</th><th class="num">Bytes out</th><th>Routes</th></tr></thead>
<tbody></tbody>
</table>
</section>
<section>
<h2>Upstreams</h2>
<p id="action-message" role="status"></p>
<div id="upstreams"></div>
</section>
</main>`;
