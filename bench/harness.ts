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

export function percentile (values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[idx]
}

export const round = (n: number, digits = 2): number => Number(n.toFixed(digits))

export function table (header: string[], rows: Array<Array<string | number>>): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map(r => `| ${r.join(' | ')} |`)].join('\n')
}
