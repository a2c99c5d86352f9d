import { Command } from 'commander'
import { runBlocktest } from '../../node/index.ts'

export function blocktestCommand (): Command {
  return new Command('blocktest')
    .description('run Ethereum Foundation blockchain-test fixtures through atelier\'s block path (proven parent state over loopback JSON-RPC)')
    .argument('<files...>', 'fixture JSON files')
    .action(async (files: string[]) => {
      let passed = 0
      let failed = 0
      let skipped = 0
      for (const file of files) {
        for (const r of await runBlocktest(file)) {
          process.stdout.write(`${r.status.padEnd(7)} ${r.id}: ${r.detail}\n`)
          if (r.status === 'passed') { passed++ } else if (r.status === 'failed') { failed++ } else { skipped++ }
        }
      }
      process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`)
      if (failed > 0) { process.exitCode = 1 }
    })
}
