/**
 * atelier's benchmark runner. `npm run bench` runs every section; `-- --only <section>` runs one;
 * `-- --json` prints one JSON object per section on stdout; `-- --write` records the results in
 * BENCHMARKS.md with the machine, the date and the command.
 */
import { cpus, totalmem } from 'node:os'
import { readFile, writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { useNativeSszHasher } from '../src/proto/index.ts'
import { dialBench } from './dial.ts'
import { fanoutBench } from './fanout.ts'
import { ingestBench } from './ingest.ts'
import { quoteBench } from './quote.ts'
import { simBench } from './sim.ts'
import { slotBench } from './slot.ts'
import type { BenchSection } from './harness.ts'

const SECTIONS: Record<string, () => Promise<BenchSection>> = {
  quote: quoteBench,
  sim: simBench,
  dial: dialBench,
  fanout: fanoutBench,
  slot: slotBench,
  ingest: ingestBench
}

const { values } = parseArgs({
  options: {
    only: { type: 'string', multiple: true },
    json: { type: 'boolean', default: false },
    write: { type: 'boolean', default: false }
  }
})

await useNativeSszHasher()

const names = values.only ?? Object.keys(SECTIONS)
for (const name of names) {
  if (SECTIONS[name] == null) {
    process.stderr.write(`unknown section "${name}"; sections: ${Object.keys(SECTIONS).join(', ')}\n`)
    process.exit(2)
  }
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`
const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim()
const results: BenchSection[] = []
for (const name of names) {
  const result = await SECTIONS[name]()
  results.push(result)
  if (values.json) {
    process.stdout.write(JSON.stringify({ section: name, ...result.json }) + '\n')
  } else {
    process.stdout.write(`\n## ${name}\n${result.markdown}\n`)
  }
}

if (values.write) {
  const path = new URL('../BENCHMARKS.md', import.meta.url)
  let text = await readFile(path, 'utf8').catch(() => '# Benchmarks\n\nWritten by `npm run bench -- --write`; each section keeps its latest run.\n')
  for (let i = 0; i < names.length; i++) {
    const body = `## ${names[i]}\n\n- machine: ${machine}\n- date: ${new Date().toISOString()}\n- command: \`${command}\`\n\n${results[i].markdown}\n`
    const re = new RegExp(`## ${names[i]}\\n[\\s\\S]*?(?=\\n## |$)`)
    text = re.test(text) ? text.replace(re, body) : `${text.trimEnd()}\n\n${body}`
  }
  await writeFile(path, text.trimEnd() + '\n')
}
