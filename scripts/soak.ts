/**
 * `npm run soak -- --slots 2000 [--members 4] [--block-time 1] [--every 100]`: a long testnet run (not in
 * CI) that samples every member's RSS (/proc) and V8 heap, committed and used (its metrics endpoint),
 * each `--every` slots and prints a Markdown table for BENCHMARKS.md, with each member's spread over
 * the run after the first sample (the warm-up). Target: RSS ≤ 300 MB steady and flat (± 10 %).
 */
import { readFile } from 'node:fs/promises'
import { Command } from 'commander'
import { Testnet } from '../src/node/index.ts'
import { useNativeSszHasher } from '../src/proto/index.ts'

const opts = new Command('soak')
  .option('--slots <n>', 'slots to run', '2000')
  .option('--members <n>', 'committee size', '4')
  .option('--block-time <s>', 'seconds per slot', '1')
  .option('--every <n>', 'slots between samples', '100')
  .option('--txs-per-slot <n>', 'load per slot', '20')
  .parse(process.argv)
  .opts<{ slots: string, members: string, blockTime: string, every: string, txsPerSlot: string }>()

async function rssMb (pid: number | undefined): Promise<number | undefined> {
  if (pid == null) { return undefined }
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1]
  return kb == null ? undefined : Math.round(Number(kb) / 1024)
}

/** V8 heap committed and used, MB, from the member's metrics */
async function heapMb (port: number | undefined): Promise<{ total?: number, used?: number }> {
  if (port == null) { return {} }
  // a member too busy to answer in 5 s gives no sample, not a crash of the soak
  const text = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) }).then(async r => r.text()).catch(() => '')
  const mb = (name: string): number | undefined => {
    const v = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]
    return v == null ? undefined : Math.round(Number(v) / 1024 / 1024)
  }
  return { total: mb('nodejs_heap_size_total_bytes'), used: mb('nodejs_heap_size_used_bytes') }
}

await useNativeSszHasher()
const slots = Number(opts.slots)
const every = Number(opts.every)
const members = Number(opts.members)
const net = await Testnet.start({ members, blockTime: Number(opts.blockTime), txsPerSlot: Number(opts.txsPerSlot) })
const rows: string[] = []
const rss: number[][] = Array.from({ length: members }, () => [])
try {
  await net.waitForCandidates(3, 120_000)
  const start = net.beacon.clock.current()
  for (let at = every; at <= slots; at += every) {
    while (net.beacon.clock.current() < start + at) { await new Promise(resolve => setTimeout(resolve, 500)) }
    const sample = await Promise.all(net.members.map(async (m, i) => {
      const r = await rssMb(m.pid)
      if (r != null) { rss[i].push(r) }
      const heap = await heapMb(m.ready?.metricsPort)
      return `${r ?? '–'} / ${heap.total ?? '–'} / ${heap.used ?? '–'}`
    }))
    const line = `| ${at} | ${net.candidates.size} | ${sample.join(' | ')} |`
    rows.push(line)
    process.stderr.write(line + '\n')
  }
} finally {
  await net.stop()
}
// "flat ± 10 %": each sample after the warm-up against the member's median over the same samples
const spread = rss.map(xs => {
  const steady = xs.slice(1)
  if (steady.length === 0) { return '–' }
  const mid = steady.slice().sort((a, b) => a - b)[Math.floor(steady.length / 2)]
  const pct = (x: number): number => Math.round((x - mid) / mid * 1000) / 10
  return `${Math.min(...steady)}–${Math.max(...steady)} MB (median ${mid}: ${pct(Math.min(...steady))} % / +${pct(Math.max(...steady))} %)`
})
process.stdout.write([
  `| slots | candidates | ${Array.from({ length: members }, (_, i) => `member ${i} RSS / heap / used MB`).join(' | ')} |`,
  `|---|---|${Array.from({ length: members }, () => '---').join('|')}|`,
  ...rows,
  '',
  `RSS after the first sample, per member: ${spread.join('; ')}`
].join('\n') + '\n')
