/**
 * dashboards/atelier.json against a real member: every metric any panel queries must be on the
 * member's own `/metrics` (served by its NodeMetrics, the code behind `--metrics-port`).
 */
import { readFile } from 'node:fs/promises'
import { expect } from 'aegir/chai'
import { Anvil } from './fixtures/anvil.ts'
import { startCommitteeNet } from './fixtures/committee-net.ts'
import { until } from './fixtures/network.ts'
import type { CommitteeNet } from './fixtures/committee-net.ts'
import type { MemberNode } from '../src/node/index.ts'

const DASHBOARD = new URL('../dashboards/atelier.json', import.meta.url)

interface Target { expr?: string, datasource?: unknown }
interface Panel { type?: string, title?: string, datasource?: unknown, targets?: Target[], panels?: Panel[] }
interface Variable { name: string, type: string, query?: unknown, definition?: string }
interface Dashboard { panels?: Panel[], templating?: { list?: Variable[] }, __inputs?: Array<{ name: string, type: string, pluginId?: string }> }

/** PromQL functions, aggregations, keywords and modifiers: never metric names. */
const PROMQL_WORDS = new Set([
  // aggregations and their modifiers
  'sum', 'avg', 'max', 'min', 'count', 'count_values', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'limitk', 'limit_ratio',
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'atan2',
  // functions
  'rate', 'irate', 'increase', 'delta', 'idelta', 'deriv', 'predict_linear', 'resets', 'changes', 'histogram_quantile',
  'histogram_count', 'histogram_sum', 'histogram_avg', 'histogram_fraction', 'histogram_stddev', 'histogram_stdvar',
  'abs', 'absent', 'absent_over_time', 'ceil', 'floor', 'round', 'exp', 'ln', 'log2', 'log10', 'sqrt', 'sgn',
  'clamp', 'clamp_min', 'clamp_max', 'label_replace', 'label_join', 'vector', 'scalar', 'sort', 'sort_desc', 'sort_by_label',
  'sort_by_label_desc', 'time', 'timestamp', 'day_of_month', 'day_of_week', 'day_of_year', 'days_in_month', 'hour', 'minute',
  'month', 'year', 'avg_over_time', 'min_over_time', 'max_over_time', 'sum_over_time', 'count_over_time', 'quantile_over_time',
  'stddev_over_time', 'stdvar_over_time', 'last_over_time', 'present_over_time', 'mad_over_time', 'holt_winters',
  'double_exponential_smoothing', 'start', 'end', 'inf', 'nan',
  // Grafana template functions that may appear in variable queries
  'label_values', 'label_names', 'metrics', 'query_result'
])

/** The metric names a PromQL expression selects (in order of first appearance). */
function metricNames (expr: string): string[] {
  let s = expr
  // string literals first, so that nothing inside them ("{", "by (", "$x", "#") is read as syntax
  s = s.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
  s = s.replace(/#[^\n]*/g, ' ') // comments
  s = s.replace(/\$\{[^}]*\}|\$\w+|\[\[[^\]]*\]\]/g, ' ') // Grafana variables: ${x}, ${x:csv}, $x, [[x]]
  s = s.replace(/\{[^}]*\}/g, ' ') // label matchers
  s = s.replace(/\[[^\]]*\]/g, ' ') // range and subquery selectors
  s = s.replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ') // label lists
  s = s.replace(/\boffset\s+-?[0-9][0-9a-z]*/gi, ' ') // offset 5m
  s = s.replace(/@\s*-?[0-9][0-9.e+-]*/gi, ' ') // @ 1700000000
  s = s.replace(/(?<![\w:.])(?:0x[0-9a-f]+|[0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?[a-z]*)/gi, ' ') // numbers, durations
  const names: string[] = []
  for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = m[0]
    const rest = s.slice((m.index ?? 0) + word.length)
    if (PROMQL_WORDS.has(word.toLowerCase())) { continue }
    if (/^\s*\(/.test(rest)) { continue } // a call: some function this list does not know
    if (!names.includes(word)) { names.push(word) }
  }
  return names
}

/** Every name /metrics exposes: `# TYPE` lines (with a histogram's or summary's series) and sample lines. */
function exposedNames (text: string): Set<string> {
  const names = new Set<string>()
  for (const line of text.split('\n')) {
    const type = /^#\s*TYPE\s+([A-Za-z_:][A-Za-z0-9_:]*)\s+(\w+)/.exec(line)
    if (type != null) {
      const [, name, kind] = type
      names.add(name)
      if (kind === 'histogram') { names.add(`${name}_bucket`).add(`${name}_sum`).add(`${name}_count`) }
      if (kind === 'summary') { names.add(`${name}_sum`).add(`${name}_count`) }
      continue
    }
    if (line.startsWith('#')) { continue }
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{|\s)/.exec(line)
    if (sample != null) { names.add(sample[1]) }
  }
  return names
}

function allPanels (panels: Panel[] = []): Panel[] {
  return panels.flatMap(p => [p, ...allPanels(p.panels)])
}

function exprsOf (panel: Panel): string[] {
  return (panel.targets ?? []).map(t => t.expr ?? '').filter(e => e.trim() !== '')
}

/** The variable a datasource reference names (`${datasource}`, `$DS_PROMETHEUS`), if it names one. */
function datasourceVariable (ref: unknown): string | undefined {
  const uid = typeof ref === 'string' ? ref : (ref as { uid?: unknown } | null)?.uid
  if (typeof uid !== 'string') { return undefined }
  return /^\$\{?(\w+)\}?$/.exec(uid)?.[1]
}

async function sealed (node: MemberNode): Promise<number> {
  return (await node.metrics.slotsSealed.get()).values.reduce((n, v) => n + v.value, 0)
}

describe('dashboards/atelier.json', function () {
  this.timeout(90_000)
  let dashboard: Dashboard

  before(async () => {
    dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8'))
  })

  describe('metric-name extraction', () => {
    it('ignores functions, keywords, label lists, matchers, strings, ranges, numbers and variables', () => {
      expect(metricNames('histogram_quantile(0.95, sum by (le, instance) (rate(x_seconds_bucket{job=~"$job",a="b{c} by (d)"}[$__rate_interval])))')).to.deep.equal(['x_seconds_bucket'])
      const braced = '$' + '{instance:regex}' // a Grafana variable with a format, as dashboards write it
      expect(metricNames(`sum by (plane, libp2p_connection_manager_connections) (libp2p_connection_manager_connections{instance=~"${braced}"}) * on (instance) ${braced}`)).to.deep.equal(['libp2p_connection_manager_connections'])
      expect(metricNames('rate(a_total[5m] offset 1h) / ignoring(code) group_left(role) b_total > bool 1e3 unless on (x) absent(c)')).to.deep.equal(['a_total', 'b_total', 'c'])
      expect(metricNames('label_replace(max_over_time(nodejs_eventloop_lag_p99_seconds[1m:10s]), "dir", "$1", "l", "(.*)") and topk(5, d) or some_new_fn(e)')).to.deep.equal(['nodejs_eventloop_lag_p99_seconds', 'd', 'e'])
      expect(metricNames('clamp_min(sum without (plane) (rate(f:recorded[$__range])), 0.5) * 100 - .25 # g_total')).to.deep.equal(['f:recorded'])
    })
  })

  describe('the model', () => {
    it('has at least 10 panels with queries, each with a title and a datasource', () => {
      const panels = allPanels(dashboard.panels)
      const queried = panels.filter(p => exprsOf(p).length > 0)
      expect(queried.length, 'panels with a non-empty expr').to.be.at.least(10)
      for (const p of panels) {
        expect(typeof p.title === 'string' && p.title.trim() !== '', `panel ${JSON.stringify(p).slice(0, 80)} has a title`).to.equal(true)
        expect(p.datasource, `panel "${p.title}" has a datasource`).to.not.equal(undefined)
        expect(p.datasource, `panel "${p.title}" has a datasource`).to.not.equal(null)
        for (const t of p.targets ?? []) {
          expect(typeof t.expr === 'string' && t.expr.trim() !== '', `a target of "${p.title}" has an expr`).to.equal(true)
        }
      }
    })

    it('takes its Prometheus datasource from a variable or an import input, and filters by job/instance', () => {
      const vars = dashboard.templating?.list ?? []
      const inputs = dashboard.__inputs ?? []
      const isPrometheusSource = (name: string): boolean =>
        vars.some(v => v.name === name && v.type === 'datasource' && v.query === 'prometheus') ||
        inputs.some(i => i.name === name && i.type === 'datasource' && i.pluginId === 'prometheus')
      for (const p of allPanels(dashboard.panels)) {
        for (const ref of [p.datasource, ...(p.targets ?? []).map(t => t.datasource)].filter(r => r != null)) {
          const name = datasourceVariable(ref)
          expect(name, `"${p.title}" names its datasource through a variable: ${JSON.stringify(ref)}`).to.be.a('string')
          expect(isPrometheusSource(name as string), `"${name}" is a Prometheus datasource variable or input`).to.equal(true)
        }
        for (const expr of exprsOf(p)) {
          expect(expr, `"${p.title}" filters by member`).to.match(/\$\{?instance\b/)
        }
      }
      expect(vars.map(v => v.name)).to.include.members(['job', 'instance'])
    })
  })

  describe('against a running member', () => {
    let anvil: Anvil | undefined
    let net: CommitteeNet | undefined
    let text: string

    before(async function () {
      this.timeout(90_000)
      anvil = await Anvil.start({ blockTime: 1 })
      net = await startCommitteeNet(anvil, 3)
      const nodes = net.nodes
      // slot metrics have samples once a candidate has been sealed
      await until(async () => (await Promise.all(nodes.map(sealed))).some(n => n > 0), 60_000, 'a sealed candidate')
      const counts = await Promise.all(nodes.map(sealed))
      const node = nodes[counts.findIndex(n => n > 0)]
      const port = await node.metrics.serve(0)
      const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })
      expect(res.status).to.equal(200)
      text = await res.text()
    })

    after(async function () {
      this.timeout(30_000)
      await net?.stop()
      await anvil?.stop()
    })

    it('serves the slot metrics with samples', () => {
      const exposed = exposedNames(text)
      expect(exposed.has('atelier_seal_latency_seconds_bucket')).to.equal(true)
      expect(text).to.match(/^atelier_slots_sealed_total [1-9]/m)
    })

    it('exposes every metric a panel queries', () => {
      const exposed = exposedNames(text)
      const queried = new Map<string, string[]>()
      const note = (name: string, where: string): void => { queried.set(name, [...(queried.get(name) ?? []), where]) }
      for (const p of allPanels(dashboard.panels)) {
        for (const expr of exprsOf(p)) {
          for (const name of metricNames(expr)) { note(name, `panel "${p.title}"`) }
        }
      }
      // the template variables' label_values(metric, label) queries too
      for (const v of dashboard.templating?.list ?? []) {
        if (v.type !== 'query') { continue }
        const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query ?? v.definition ?? ''
        const m = /label_values\s*\(([^,]*),/.exec(q)
        for (const name of m == null ? [] : metricNames(m[1])) { note(name, `variable "${v.name}"`) }
      }
      expect(queried.size, 'metric names found in the dashboard').to.be.at.least(20)
      const missing = [...queried].filter(([name]) => !exposed.has(name)).map(([name, where]) => `${name} (${[...new Set(where)].join(', ')})`)
      expect(missing, `metrics the dashboard queries but /metrics lacks:\n  ${missing.join('\n  ')}\n`).to.deep.equal([])
    })
  })
})
