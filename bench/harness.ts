import { percentile as nearestRank } from '../src/node/index.ts'

export interface BenchSection {
  json: Record<string, unknown>
  markdown: string
}

/** Median of `runs` timings of `fn`, in ms, after `warmup` untimed calls. */
export async function medianMs (fn: () => Promise<unknown> | unknown, runs: number, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) {
    await fn()
  }
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    await fn()
    times.push(performance.now() - t0)
  }
  return percentile(times, 50)
}

/**
 * Medians of several variants timed in alternation (a, b, b, a, a, b, …), so that load the shared
 * machine picks up during the run falls on every variant alike: ratios stay meaningful when absolute
 * times drift.
 */
export async function interleavedMediansMs<K extends string> (fns: Record<K, () => Promise<unknown>>, runs: number, warmup = 2): Promise<Record<K, number>> {
  const keys = Object.keys(fns) as K[]
  const times = Object.fromEntries(keys.map(k => [k, [] as number[]])) as Record<K, number[]>
  for (let i = 0; i < warmup + runs; i++) {
    for (const k of i % 2 === 0 ? keys : [...keys].reverse()) {
      const t0 = performance.now()
      await fns[k]()
      if (i >= warmup) {
        times[k].push(performance.now() - t0)
      }
    }
  }
  return Object.fromEntries(keys.map(k => [k, percentile(times[k], 50)])) as Record<K, number>
}

/** Nearest-rank percentile of unsorted `values` (the testnet's own summary uses the same rank). */
export function percentile (values: number[], p: number): number {
  return nearestRank([...values].sort((a, b) => a - b), p) as number
}

export const round = (n: number, digits = 2): number => Number(n.toFixed(digits))

export function table (header: string[], rows: Array<Array<string | number>>): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map(r => `| ${r.join(' | ')} |`)].join('\n')
}
