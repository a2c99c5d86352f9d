import { Command } from 'commander'
import { createLogger, Testnet } from '../../node/index.ts'
import type { SlotProgress } from '../../node/index.ts'

interface TestnetCliOptions {
  members: string
  slots?: string
  blockTime: string
  json?: boolean
  out?: string
  txsPerSlot: string
  blobTxsPerSlot: string
  chainRpc?: string
  statusPort: string
  status: boolean
}

function progressLine (p: SlotProgress): string {
  if (p.from === 'fallback') {
    return `slot ${String(p.slot).padStart(5)}  leader ${p.leader}  no candidate by the deadline: fallback block from the chain's own pool  block ${p.blockHash.slice(0, 18)}…`
  }
  const gas = p.gas >= 1_000_000 ? `${(p.gas / 1_000_000).toFixed(2)}M` : `${(p.gas / 1000).toFixed(1)}k`
  const seal = p.sealLatencyMs == null ? '   –  ' : `${String(p.sealLatencyMs).padStart(4)} ms`
  const chain = p.secondEvm == null ? '' : `  on chain${p.blobs != null && p.blobs > 0 ? ` with ${p.blobs} blob(s), KZG-checked` : ''}, second EVM: ${p.secondEvm}`
  return `slot ${String(p.slot).padStart(5)}  leader ${p.leader}  txs ${String(p.txs).padStart(4)}  gas ${gas.padStart(7)}  agree ${p.signers}/${p.committee}  seal ${seal}  block ${p.blockHash.slice(0, 18)}…  ${p.verified ? 'verified ✓' : 'UNVERIFIED'}${chain}`
}

export function testnetCommand (): Command {
  return new Command('testnet')
    .description('run a local multi-node testnet on embedded defaults (anvil, a test TD, N members, a co-builder, load, a follower)')
    .option('--members <n>', 'committee size', '4')
    .option('--slots <n>', 'stop after this many verified candidates (default: run until Ctrl-C)')
    .option('--block-time <s>', 'seconds per slot (anvil block time)', '2')
    .option('--txs-per-slot <n>', 'load: transactions submitted per slot', '10')
    .option('--blob-txs-per-slot <n>', 'load: blob transactions (one blob each, network form with cell proofs) per slot', '0')
    .option('--json', 'print a machine-readable summary (no progress lines)')
    .option('--out <dir>', 'keep the config, keys, logs, every candidate (SSZ and JSON) and, per slot, the candidate and the chain\'s block here')
    .option('--chain-rpc <url>', 'drive a chain you run (an anvil started with --order fifo) instead of starting one')
    .option('--status-port <n>', 'serve the live status page (every member and the proposer) on 127.0.0.1:<n> (0: any free port)', '0')
    .option('--no-status', 'serve no status page')
    .action(async (opts: TestnetCliOptions) => {
      const members = Number(opts.members)
      const blockTime = Number(opts.blockTime)
      const slots = opts.slots != null ? Number(opts.slots) : undefined
      if (!Number.isInteger(members) || members < 1 || members > 64) { throw new Error('--members must be 1..64') }
      if (!Number.isInteger(blockTime) || blockTime < 1) { throw new Error('--block-time must be a whole number of seconds ≥ 1') }
      if (slots != null && (!Number.isInteger(slots) || slots < 1)) { throw new Error('--slots must be a positive integer') }
      const statusPort = Number(opts.statusPort)
      if (!Number.isInteger(statusPort) || statusPort < 0 || statusPort > 65535) { throw new Error('--status-port must be a port number (0: any free port)') }
      const say = (line: string): void => { if (opts.json !== true) { process.stdout.write(line + '\n') } }
      say(`starting a ${members}-member testnet (block time ${blockTime}s)…`)
      // a second-EVM mismatch stops the run (the report says which field, which slot, both values)
      let onMismatch: (() => void) | undefined
      let mismatched = false
      const net = await Testnet.start({
        members,
        blockTime,
        out: opts.out,
        txsPerSlot: Number(opts.txsPerSlot),
        blobTxsPerSlot: Number(opts.blobTxsPerSlot),
        chainRpc: opts.chainRpc,
        statusPort: opts.status ? statusPort : undefined,
        logger: createLogger({ format: 'pretty', level: 'warn' }),
        onProgress: p => {
          say(progressLine(p))
          if (p.secondEvm?.startsWith('MISMATCH') === true && !mismatched) {
            mismatched = true
            onMismatch?.()
          }
        }
      })
      say(`members up; config fingerprint ${net.config.signature().toString().slice(0, 16)}…; logs in ${net.dir}`)
      if (net.statusPage != null) { say(`status page: ${net.statusPage.url}`) }
      let stopping = false
      const finish = async (): Promise<void> => {
        if (stopping) { return }
        stopping = true
        const summary = net.summary()
        await net.stop()
        if (opts.json === true) {
          process.stdout.write(JSON.stringify(summary) + '\n')
        } else {
          say('summary:')
          for (const [k, v] of Object.entries(summary)) { if (v !== undefined) { say(`  ${k}: ${String(v)}`) } }
        }
      }
      await new Promise<void>(resolve => {
        const onSignal = (): void => { finish().then(resolve, resolve) }
        onMismatch = () => {
          process.stderr.write(`${net.failure ?? 'second-EVM mismatch'}\n`)
          process.exitCode = 1
          onSignal()
        }
        if (mismatched) { onMismatch() }
        process.once('SIGINT', onSignal)
        process.once('SIGTERM', onSignal)
        if (slots != null) {
          net.waitForCandidates(slots, Math.max(120_000, slots * blockTime * 5000)).then(async () => finish(), async err => {
            process.stderr.write(`${(err as Error).message}\n`)
            process.exitCode = 1
            await finish()
          }).then(resolve, resolve)
        }
      })
    })
}
