import { Command, Option } from 'commander'
import { Atelier, loadConfigFile, readClientTicket } from '../../node/index.ts'
import { candidateSummary } from '../../p2p/index.ts'

export function followCommand (): Command {
  return new Command('follow')
    .description('follow the committee\'s candidates with a read ticket; one JSON line per verified candidate')
    .requiredOption('--config <file>', 'config JSON (pins the roster)')
    .requiredOption('--ticket <file>', 'reader ticket file { identity, jwt }')
    .requiredOption('--bootstrap <ma...>', 'members\' public-plane multiaddrs')
    .option('--from-slot <n>', 'first slot to yield', '0')
    .addOption(new Option('--format <format>', 'summary: slot, hashes, counts; engine: the engine_newPayloadV4 parameters (Engine API JSON)').choices(['summary', 'engine']).default('summary'))
    .action(async (opts: { config: string, ticket: string, bootstrap: string[], fromSlot: string, format: 'summary' | 'engine' }) => {
      const config = await loadConfigFile(opts.config)
      const { privateKey, jwt } = await readClientTicket(opts.ticket)
      const abort = new AbortController()
      process.once('SIGINT', () => { abort.abort() })
      process.once('SIGTERM', () => { abort.abort() })
      const reader = await Atelier.read({
        config,
        ticket: jwt,
        privateKey,
        bootstrap: opts.bootstrap,
        fromSlot: Number(opts.fromSlot),
        signal: abort.signal,
        onInvalid: reason => { process.stderr.write(JSON.stringify({ event: 'dropped', reason }) + '\n') }
      })
      for await (const c of reader) {
        process.stdout.write(JSON.stringify(opts.format === 'engine' ? c.toExecutionPayload() : candidateSummary(c)) + '\n')
      }
    })
}
