/**
 * The browser side of the operator's live status page: the HTML the status server serves on `/`
 * (`STATUS_HTML`), its style sheet (`STATUS_CSS`, `/assets/status.css`) and its script (`STATUS_JS`,
 * `/assets/status.js`: plain ES2020, no modules, run after uPlot's IIFE build has set the global
 * `uPlot`). The script follows `/events` (server-sent events, the shapes of status-types.ts) and
 * renders the chain row, the committee, the newest 50 slots, a seal-latency plot over every kept slot
 * and the counters that need attention; DOM and plot updates are batched, one per animation frame.
 *
 * Plain strings on purpose: there is no build chain for browser code here, the strings travel inside
 * the package whether it runs from source or from dist, and the page loads nothing from outside the
 * machine (no CDN, web font or remote image; uPlot is served by the status server itself). All three
 * are ASCII only, so they read the same whatever charset the server declares. For tests the script
 * exposes `window.atelierStatus = { slots(), plotData(), members() }`.
 */
import { STATUS_SLOTS } from './status-types.ts'

export const STATUS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>atelier status</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/uPlot.min.css">
<link rel="stylesheet" href="/assets/status.css">
<script src="/assets/uPlot.iife.min.js" defer></script>
<script src="/assets/status.js" defer></script>
</head>
<body>
<div id="banner" role="status">disconnected &mdash; waiting for the status stream&hellip;</div>
<header>
  <h1 id="title">atelier</h1>
  <div id="chain" class="chain">&ndash;</div>
</header>
<main>
  <section class="panel counters-panel">
    <h2>needs attention</h2>
    <div id="counters" class="counters"></div>
  </section>
  <section class="panel">
    <h2>committee</h2>
    <div class="scroll">
      <table id="committee">
        <thead><tr>
          <th class="num">member</th><th>private peer</th><th>public peer</th>
          <th class="num" title="open connections: private plane / public plane">connections</th>
          <th>admitted</th><th>last announcement</th><th>reachable</th>
        </tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>
  <section class="panel">
    <h2>seal latency per slot</h2>
    <div id="plot" class="plot"></div>
  </section>
  <section class="panel">
    <h2>last 50 slots</h2>
    <div class="scroll">
      <table id="slots">
        <thead><tr>
          <th class="num">slot</th><th>leader</th><th>outcome</th><th class="num">txs</th>
          <th class="num">gas</th><th class="num">value (ETH)</th><th class="num">agreement</th>
          <th class="num">seal ms</th><th>verified</th><th>on chain</th><th>block</th>
        </tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>
</main>
</body>
</html>
`

export const STATUS_CSS = `
:root {
  --fg: #1c2127;
  --muted: #66707a;
  --bg: #f6f7f9;
  --panel: #ffffff;
  --line: #dde1e6;
  --red: #c62828;
  --red-bg: #fdecec;
  --green: #2e7d32;
  --accent: #2b6cb0;
}
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; }
body {
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--fg);
  background: var(--bg);
}
code, .mono, td.hash, td.peer { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
header {
  display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 24px;
  padding: 12px 16px; background: var(--panel); border-bottom: 1px solid var(--line);
}
h1 { font-size: 18px; margin: 0; font-weight: 600; }
h2 { font-size: 13px; margin: 0 0 8px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: 0.04em; }
.chain { display: flex; flex-wrap: wrap; gap: 4px 16px; color: var(--muted); }
.chain b { color: var(--fg); font-weight: 600; }
.chain .leading { color: var(--green); font-weight: 600; }
main {
  display: grid; gap: 12px; padding: 12px 16px;
  grid-template-columns: minmax(0, 1fr);
}
@media (min-width: 1600px) {
  main { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
  .counters-panel { grid-column: 1 / -1; }
  main > section:last-child { grid-column: 1 / -1; }
}
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; min-width: 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 8px; text-align: left; white-space: nowrap; border-bottom: 1px solid var(--line); }
th { font-weight: 600; color: var(--muted); font-size: 12px; }
td.num, th.num { text-align: right; }
tbody tr:hover { background: #f0f3f7; }
tr.self td { background: #eef4fb; }
tr.missed td { color: var(--muted); }
tr.missed td.outcome { color: var(--red); }
td.reachable { color: var(--green); }
td.unreachable { color: var(--red); font-weight: 600; }
td.bad { color: var(--red); font-weight: 600; }
td.good { color: var(--green); }
.muted { color: var(--muted); }
#banner {
  position: sticky; top: 0; z-index: 10;
  padding: 6px 16px; background: var(--red); color: #fff; font-weight: 600;
}
#banner[hidden] { display: none; }
.counters { display: flex; flex-wrap: wrap; gap: 8px; }
.counter {
  border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; min-width: 130px;
  background: var(--panel);
}
.counter > .label { color: var(--muted); font-size: 12px; }
.counter > .value { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
.counter.moved { border-color: var(--red); background: var(--red-bg); }
.counter.moved > .value, .counter.moved > .label { color: var(--red); }
.counter .reasons { display: flex; flex-direction: column; gap: 2px; margin-top: 4px; }
.counter .reasons:empty { display: none; }
.counter.sub {
  display: flex; justify-content: space-between; gap: 12px;
  min-width: 0; padding: 1px 6px; border-radius: 4px; font-size: 12px;
}
.counter.sub > .label { font-size: 12px; }
.counter.sub > .value { font-size: 12px; font-weight: 600; }
.plot { min-height: 200px; }
.plot .u-legend { font-size: 12px; }
`

export const STATUS_JS = String.raw`(function () {
  'use strict'

  var MAX_SLOTS = ${STATUS_SLOTS}
  var TABLE_ROWS = 50
  var PLOT_HEIGHT = 260
  var ALWAYS = ['divergence', 'equivocations', 'missedSlots', 'admissionRejections', 'connectionRefusals', 'ingestionRefusals']
  var WORDS = {
    divergence: 'simulation divergence',
    equivocations: 'equivocations',
    missedSlots: 'missed slots',
    admissionRejections: 'admission rejections',
    connectionRefusals: 'connection refusals',
    ingestionRefusals: 'ingestion refusals'
  }
  var ROLE_ORDER = ['member', 'cobuilder', 'reader']

  var el = {
    title: document.getElementById('title'),
    chain: document.getElementById('chain'),
    committee: document.querySelector('#committee tbody'),
    slots: document.querySelector('#slots tbody'),
    plot: document.getElementById('plot'),
    counters: document.getElementById('counters'),
    banner: document.getElementById('banner')
  }

  var kind = null
  var selfIndex = null
  var committee = []
  var chain = null
  var counters = {}
  var baseline = {}
  var moved = {}
  var sawCounters = false
  // kept slots, ascending by slot number
  var slots = []
  var plotData = [[], [], []]
  var plot = null

  var dirty = { title: false, chain: false, committee: false, slots: false, counters: false, size: false }
  var frame = 0

  function schedule (part) {
    dirty[part] = true
    if (frame === 0) { frame = requestAnimationFrame(render) }
  }

  // -- formatting ------------------------------------------------------------------------------

  var ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
  function esc (v) {
    return String(v).replace(/[&<>"']/g, function (c) { return ESC[c] })
  }
  var DASH = '\u2013'
  function dash () { return '<span class="muted">' + DASH + '</span>' }
  function short (s, head, tail) {
    s = String(s)
    if (s.length <= head + tail + 1) { return s }
    return s.slice(0, head) + '\u2026' + s.slice(s.length - tail)
  }
  function shortCell (cls, v, head, tail) {
    if (v == null || v === '') { return '<td class="' + cls + '">' + dash() + '</td>' }
    return '<td class="' + cls + '" title="' + esc(v) + '">' + esc(short(v, head, tail)) + '</td>'
  }
  function ms (v) {
    if (v == null) { return null }
    return Number.isInteger(v) ? String(v) : (Math.round(v * 10) / 10).toFixed(1)
  }
  // wei (decimal string) -> ETH with 6 decimals, rounded half up
  function eth (wei) {
    var w
    try { w = BigInt(wei) } catch (e) { return String(wei) }
    var neg = w < BigInt(0)
    if (neg) { w = -w }
    var micro = (w + BigInt('500000000000')) / BigInt('1000000000000')
    var whole = micro / BigInt(1000000)
    var frac = (micro % BigInt(1000000)).toString()
    while (frac.length < 6) { frac = '0' + frac }
    return (neg ? '-' : '') + whole.toString() + '.' + frac
  }
  function ago (t, now) {
    return Math.max(0, Math.round((now - t) / 1000)) + 's ago'
  }
  function words (key) {
    if (WORDS[key] != null) { return WORDS[key] }
    return key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase()
  }

  // -- state updates ---------------------------------------------------------------------------

  function findSlot (n) {
    // first index whose slot >= n
    var lo = 0
    var hi = slots.length
    while (lo < hi) {
      var mid = (lo + hi) >>> 1
      if (slots[mid].slot < n) { lo = mid + 1 } else { hi = mid }
    }
    return lo
  }

  function upsertSlot (row) {
    if (row == null || typeof row.slot !== 'number') { return }
    var n = slots.length
    if (n === 0 || slots[n - 1].slot < row.slot) {
      slots.push(row)
    } else {
      var i = findSlot(row.slot)
      if (i < n && slots[i].slot === row.slot) { slots[i] = row } else { slots.splice(i, 0, row) }
    }
    if (slots.length > MAX_SLOTS) { slots.splice(0, slots.length - MAX_SLOTS) }
    schedule('slots')
  }

  function setCounters (c) {
    counters = c || {}
    var keys = Object.keys(counters).concat(ALWAYS)
    for (var i = 0; i < keys.length; i++) {
      var k = keys[i]
      var v = Number(counters[k] || 0)
      if (!(k in baseline)) {
        // what the page first saw; a key that turns up later was 0 before it did
        baseline[k] = sawCounters ? 0 : v
      }
      if (v > baseline[k]) { moved[k] = true } else if (v < baseline[k]) { baseline[k] = v }
    }
    sawCounters = true
    schedule('counters')
  }

  function applySnapshot (s) {
    kind = s.kind
    selfIndex = s.kind === 'member' && s.index != null ? s.index : null
    committee = Array.isArray(s.committee) ? s.committee : []
    chain = s.chain || null
    var list = Array.isArray(s.slots) ? s.slots.slice() : []
    list.sort(function (a, b) { return a.slot - b.slot })
    slots = []
    for (var i = 0; i < list.length; i++) {
      var n = slots.length
      if (n > 0 && slots[n - 1].slot === list[i].slot) { slots[n - 1] = list[i] } else { slots.push(list[i]) }
    }
    if (slots.length > MAX_SLOTS) { slots.splice(0, slots.length - MAX_SLOTS) }
    setCounters(s.counters)
    schedule('title')
    schedule('chain')
    schedule('committee')
    schedule('slots')
  }

  // -- rendering -------------------------------------------------------------------------------

  function renderTitle () {
    var t = 'atelier \u2014 ' + (kind === 'member' ? 'member ' + selfIndex : kind === 'testnet' ? 'testnet' : '')
    el.title.textContent = t
    document.title = t
  }

  function renderChain () {
    if (chain == null) { el.chain.innerHTML = dash(); return }
    var parts = []
    var head = chain.headNumber == null ? dash() : '<b>#' + esc(chain.headNumber) + '</b>'
    if (chain.headHash != null) { head += ' <code title="' + esc(chain.headHash) + '">' + esc(short(chain.headHash, 10, 4)) + '</code>' }
    parts.push('<span data-field="head">head ' + head + '</span>')
    parts.push('<span data-field="slot">slot now <b>' + esc(chain.slotNow) + '</b></span>')
    parts.push('<span data-field="leader">leader <b>' + esc(chain.leader) + '</b></span>')
    if (kind === 'member' && chain.rank != null) {
      parts.push(chain.rank === 0
        ? '<span data-field="rank" class="leading">leading</span>'
        : '<span data-field="rank">this member: rank <b>' + esc(chain.rank) + '</b></span>')
    }
    el.chain.innerHTML = parts.join('')
  }

  function roles (r) {
    if (r == null) { return '' }
    var keys = Object.keys(r).sort(function (a, b) {
      var ia = ROLE_ORDER.indexOf(a)
      var ib = ROLE_ORDER.indexOf(b)
      if (ia < 0) { ia = ROLE_ORDER.length }
      if (ib < 0) { ib = ROLE_ORDER.length }
      return ia - ib || (a < b ? -1 : a > b ? 1 : 0)
    })
    var out = []
    for (var i = 0; i < keys.length; i++) {
      if (r[keys[i]] > 0) { out.push(keys[i] + ' ' + r[keys[i]]) }
    }
    return out.join(' \u00b7 ')
  }

  function renderCommittee () {
    var now = Date.now()
    var rows = committee.slice().sort(function (a, b) { return a.index - b.index })
    var html = ''
    for (var i = 0; i < rows.length; i++) {
      var m = rows[i]
      var c = m.connections || { private: 0, public: 0 }
      var rl = roles(m.roles)
      html += '<tr data-member="' + esc(m.index) + '"' + (m.index === selfIndex ? ' class="self"' : '') + '>' +
        '<td class="num">' + esc(m.index) + '</td>' +
        shortCell('peer', m.privatePeerId, 8, 6) +
        shortCell('peer', m.publicPeerId, 8, 6) +
        '<td class="num">' + esc(c.private) + ' / ' + esc(c.public) + '</td>' +
        '<td>' + (rl === '' ? dash() : esc(rl)) + '</td>' +
        (m.lastAnnounce == null
          ? '<td class="ago muted">never</td>'
          : '<td class="ago" data-t="' + esc(m.lastAnnounce) + '" title="' + esc(new Date(m.lastAnnounce).toISOString()) + '">' + ago(m.lastAnnounce, now) + '</td>') +
        (m.reachable ? '<td class="reachable">\u2713</td>' : '<td class="unreachable">unreachable</td>') +
        '</tr>'
    }
    el.committee.innerHTML = html
  }

  function tickAgo () {
    var now = Date.now()
    var cells = el.committee.querySelectorAll('td.ago[data-t]')
    for (var i = 0; i < cells.length; i++) {
      var t = Number(cells[i].getAttribute('data-t'))
      var s = ago(t, now)
      if (cells[i].textContent !== s) { cells[i].textContent = s }
    }
  }

  function slotRow (s) {
    var leader = esc(s.leader)
    if (s.opener != null && s.opener !== s.leader) { leader += ' <span class="muted">taken over by</span> ' + esc(s.opener) }
    var verified = s.verified == null
      ? '<td>' + dash() + '</td>'
      : s.verified ? '<td class="good">\u2713</td>' : '<td class="bad">\u2717</td>'
    var onChain = s.onChain == null
      ? '<td>' + dash() + '</td>'
      : '<td class="' + (s.onChain === 'committee' ? 'good' : 'bad') + '">' + esc(s.onChain) + '</td>'
    var seal = ms(s.sealMs)
    var title = s.simulationMs != null ? ' title="simulation ' + esc(ms(s.simulationMs)) + ' ms"' : ''
    return '<tr data-slot="' + esc(s.slot) + '"' + (s.outcome === 'missed' ? ' class="missed"' : '') + '>' +
      '<td class="num">' + esc(s.slot) + '</td>' +
      '<td>' + leader + '</td>' +
      '<td class="outcome">' + esc(s.outcome) + '</td>' +
      '<td class="num">' + (s.txs == null ? dash() : esc(s.txs)) + '</td>' +
      '<td class="num">' + (s.gas == null ? dash() : esc(s.gas)) + '</td>' +
      (s.valueWei == null ? '<td class="num">' + dash() + '</td>' : '<td class="num" title="' + esc(s.valueWei) + ' wei">' + esc(eth(s.valueWei)) + '</td>') +
      '<td class="num">' + (s.agreement == null ? dash() : esc(s.agreement) + '/' + esc(s.committee)) + '</td>' +
      '<td class="num"' + title + '>' + (seal == null ? dash() : esc(seal)) + '</td>' +
      verified + onChain +
      shortCell('hash', s.blockHash, 10, 4) +
      '</tr>'
  }

  function renderSlots () {
    var html = ''
    var stop = Math.max(0, slots.length - TABLE_ROWS)
    for (var i = slots.length - 1; i >= stop; i--) { html += slotRow(slots[i]) }
    el.slots.innerHTML = html
  }

  function buildPlotData () {
    var n = slots.length
    var xs = new Array(n)
    var sim = new Array(n)
    var total = new Array(n)
    for (var i = 0; i < n; i++) {
      var s = slots[i]
      xs[i] = s.slot
      if (s.sealMs == null) {
        sim[i] = null
        total[i] = null
      } else {
        var sm = s.simulationMs == null ? null : s.simulationMs
        sim[i] = sm
        // simulation plus the rest of the seal latency, the rest floored at 0
        total[i] = sm == null ? s.sealMs : sm + Math.max(0, s.sealMs - sm)
      }
    }
    return [xs, sim, total]
  }

  function plotWidth () {
    return Math.max(200, el.plot.clientWidth || 600)
  }

  function makePlot () {
    if (typeof uPlot === 'undefined') { return null }
    var opts = {
      width: plotWidth(),
      height: PLOT_HEIGHT,
      scales: { x: { time: false } },
      series: [
        { label: 'slot', value: function (u, v) { return v == null ? DASH : String(v) } },
        {
          label: 'simulation ms',
          stroke: '#2b6cb0',
          fill: 'rgba(43, 108, 176, 0.55)',
          width: 1,
          value: function (u, v) { return v == null ? DASH : ms(v) }
        },
        {
          label: 'seal ms (simulation + the rest)',
          stroke: '#8fb3dc',
          fill: 'rgba(143, 179, 220, 0.35)',
          width: 1,
          value: function (u, v) { return v == null ? DASH : ms(v) }
        }
      ],
      // the lighter fill only between the total and the simulation: the rest stacks on top
      bands: [{ series: [2, 1], fill: 'rgba(143, 179, 220, 0.35)' }],
      axes: [
        {
          label: 'slot',
          values: function (u, splits) { return splits.map(function (v) { return v % 1 === 0 ? String(v) : '' }) }
        },
        { label: 'ms' }
      ]
    }
    return new uPlot(opts, plotData, el.plot)
  }

  function renderPlot () {
    plotData = buildPlotData()
    if (plot != null) { plot.setData(plotData) }
  }

  function renderCounters () {
    var keys = {}
    var k
    for (k in baseline) { keys[k] = true }
    for (k in counters) { keys[k] = true }
    for (var a = 0; a < ALWAYS.length; a++) { keys[ALWAYS[a]] = true }
    var parents = []
    var reasons = {}
    for (k in keys) {
      var at = k.indexOf(':')
      if (at < 0) {
        if (parents.indexOf(k) < 0) { parents.push(k) }
      } else {
        var p = k.slice(0, at)
        if (parents.indexOf(p) < 0) { parents.push(p) }
        ;(reasons[p] = reasons[p] || []).push(k)
      }
    }
    parents.sort(function (x, y) {
      var ix = ALWAYS.indexOf(x)
      var iy = ALWAYS.indexOf(y)
      if (ix < 0) { ix = ALWAYS.length }
      if (iy < 0) { iy = ALWAYS.length }
      return ix - iy || (x < y ? -1 : x > y ? 1 : 0)
    })
    var html = ''
    for (var i = 0; i < parents.length; i++) {
      var key = parents[i]
      html += '<div class="counter' + (moved[key] ? ' moved' : '') + '" data-counter="' + esc(key) + '">' +
        '<div class="label">' + esc(words(key)) + '</div>' +
        '<div class="value">' + esc(Number(counters[key] || 0)) + '</div><div class="reasons">'
      var subs = (reasons[key] || []).sort()
      for (var j = 0; j < subs.length; j++) {
        var sk = subs[j]
        html += '<div class="counter sub' + (moved[sk] ? ' moved' : '') + '" data-counter="' + esc(sk) + '">' +
          '<span class="label">' + esc(sk.slice(key.length + 1).replace(/[-_]/g, ' ')) + '</span>' +
          '<span class="value">' + esc(Number(counters[sk] || 0)) + '</span></div>'
      }
      html += '</div></div>'
    }
    el.counters.innerHTML = html
  }

  function render () {
    frame = 0
    if (dirty.title) { dirty.title = false; renderTitle() }
    if (dirty.chain) { dirty.chain = false; renderChain() }
    if (dirty.committee) { dirty.committee = false; renderCommittee() }
    if (dirty.counters) { dirty.counters = false; renderCounters() }
    if (dirty.slots) { dirty.slots = false; renderSlots(); renderPlot() }
    if (dirty.size) {
      dirty.size = false
      if (plot != null) { plot.setSize({ width: plotWidth(), height: PLOT_HEIGHT }) }
    }
  }

  // -- the stream ------------------------------------------------------------------------------

  function banner (down) {
    el.banner.hidden = !down
  }

  function listen (es, name, fn) {
    es.addEventListener(name, function (ev) {
      var data
      try { data = JSON.parse(ev.data) } catch (e) { return }
      fn(data)
    })
  }

  function connect () {
    var es = new EventSource('/events')
    es.onopen = function () { banner(false) }
    es.onerror = function () {
      banner(true)
      // EventSource reconnects by itself unless the server refused the stream outright
      if (es.readyState === 2) { es.close(); setTimeout(connect, 3000) }
    }
    listen(es, 'snapshot', applySnapshot)
    listen(es, 'slot', upsertSlot)
    listen(es, 'committee', function (d) { committee = Array.isArray(d) ? d : []; schedule('committee') })
    listen(es, 'chain', function (d) { chain = d; schedule('chain') })
    listen(es, 'counters', setCounters)
  }

  window.atelierStatus = {
    slots: function () { return slots.slice() },
    plotData: function () { return plotData },
    members: function () { return committee.slice() }
  }

  try { plot = makePlot() } catch (e) { plot = null }
  schedule('counters')
  window.addEventListener('resize', function () { schedule('size') })
  setInterval(tickAgo, 1000)
  banner(true)
  connect()
})()
`
