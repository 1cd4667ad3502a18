/**
 * The dashboard's shadow traffic panel: one row per route with a `mirror`,
 * its shadow pool and sample share, and the mirror's counters from /routes
 * (sent, dropped by the concurrency cap, over the body limit, shadow 5xx,
 * errors with timeouts among them). Hidden while no route mirrors. Its markup
 * and script are pasted into the page by dashboard-markup.ts and
 * dashboard-script.ts. Plain ES2020, no template literals (the page's CSP
 * hashes the exact script text).
 *
 * Elements tests can rely on:
 *   #mirrors[hidden] tr[data-route=ID][data-upstream=SHADOW]
 *     td[data-field=percent|sent|dropped|over-limit|shadow-5xx|errors|timeouts]
 */

/** MIRRORS_MARKUP is the panel's static markup. */
export const MIRRORS_MARKUP = `<section id="mirrors" hidden>
<h2>Shadow traffic</h2>
<p class="muted">Copies of sampled requests sent to a shadow pool (routes' mirror); their answers are discarded. Counts since the route got its mirror.</p>
<table>
<thead><tr><th>Route</th><th>Shadow upstream</th><th class="num">Sampled</th><th class="num">Sent</th><th class="num">Dropped (cap)</th><th class="num">Over body limit</th><th class="num">Shadow 5xx</th><th class="num">Errors</th><th class="num">of them timeouts</th></tr></thead>
<tbody></tbody>
</table>
</section>`;

/** MIRRORS is script text defining renderMirrors(routes) (uses el, cell and num from the widgets). */
export const MIRRORS = `
  function renderMirrors(routes) {
    var list = routes.filter(function (r) { return r.mirror; });
    var panel = $('mirrors');
    panel.hidden = list.length === 0;
    var body = panel.querySelector('tbody');
    body.replaceChildren.apply(body, list.map(function (r) {
      var m = r.mirror, c = m.counts;
      return el('tr', { 'data-route': r.id, 'data-upstream': m.upstream },
        cell('route', el('code', null, r.id)),
        cell('upstream', m.upstream),
        num('percent', m.percent, m.percent + '%'),
        num('sent', c.sent),
        num('dropped', c.dropped),
        num('over-limit', c.overLimit),
        num('shadow-5xx', c.shadow5xx),
        num('errors', c.errors),
        num('timeouts', c.timeouts));
    }));
  }
`;
