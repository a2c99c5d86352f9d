/**
 * `npm run chaos -- --seed N --slots M --members K [--block-time S]`: a seeded fault schedule over a
 * local testnet (src/node/testnet/chaos.ts). Prints the schedule as it runs and the verdict; exits 1 on
 * any violation, and the same seed reproduces the same schedule.
 */
import { Command } from 'commander'
import { runChaos } from '../src/node/testnet/index.ts'
import { useNativeSszHasher } from '../src/proto/index.ts'

const opts = new Command('chaos')
  .option('--seed <n>', 'the schedule\'s seed', '1')
  .option('--slots <n>', 'slots the schedule spans', '60')
  .option('--members <n>', 'committee size', '4')
  .option('--block-time <s>', 'seconds per slot', '2')
  .parse(process.argv)
  .opts<{ seed: string, slots: string, members: string, blockTime: string }>()

await useNativeSszHasher()
const verdict = await runChaos({
  seed: Number(opts.seed),
  slots: Number(opts.slots),
  members: Number(opts.members),
  blockTime: Number(opts.blockTime),
  say: line => { process.stdout.write(`${line}\n`) }
})
process.stdout.write(`seed ${verdict.seed}: ${verdict.sealedSlots} slots sealed in ${verdict.firstSlot}–${verdict.lastSlot}; ${verdict.violations.length === 0 ? 'no violation' : `${verdict.violations.length} violation(s):`}\n`)
for (const v of verdict.violations) { process.stdout.write(`  ${v}\n`) }
process.exitCode = verdict.violations.length === 0 ? 0 : 1
