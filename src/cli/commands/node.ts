import { Command, Option } from 'commander'
import { FileKeyStore } from '../../enclave/index.ts'
import { createLogger, defaultTicketPath, loadConfigFile, MemberNode, MemberStatus, quoteProviderFrom, readTickets } from '../../node/index.ts'
import type { LogLevel, OpenHook, SimulationHook } from '../../node/index.ts'

/** What a test harness injects into the member it runs (nothing in production). */
export interface NodeHooks {
  simulationHook?: SimulationHook
  openHook?: OpenHook
}

interface NodeOptions {
  config: string
  keys: string
  data: string
  ticket?: string
  listenPrivate: string[]
  announcePrivate?: string[]
  listenPublic: string[]
  bootstrap: string[]
  metricsPort?: string
  statusPort?: string
  statusHost: string
  rpcPort?: string
  quoteProvider: 'configfs' | 'test-td'
  testTd?: string
  mrtd?: string
  collateral?: string
  pccsUrl?: string
  beaconApi: string
  warmState: boolean
  extraData?: string
  gasLimitTarget?: string
  logFormat: 'json' | 'pretty'
  logLevel: LogLevel
}

const port = (v: string | undefined, what: string): number | undefined => {
  if (v == null) { return undefined }
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65535) { throw new Error(`${what} must be a port number, got "${v}"`) }
  return n
}

const gasLimit = (v: string): bigint => {
  if (!/^[0-9]+$/.test(v) || BigInt(v) < 5000n) { throw new Error(`--gas-limit-target must be a whole number of gas ≥ 5000, got "${v}"`) }
  return BigInt(v)
}

const beaconUrl = (v: string): string => {
  let url: URL
  try { url = new URL(v) } catch { throw new Error(`--beacon-api must be an http(s) URL, got "${v}"`) }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') { throw new Error(`--beacon-api must be an http(s) URL, got "${v}"`) }
  return v
}

export function nodeCommand (hooks: NodeHooks = {}): Command {
  return new Command('node')
    .description('run a committee member (both planes, the slot loop, sync, metrics)')
    .requiredOption('--config <file>', 'config JSON')
    .requiredOption('--keys <dir>', 'key directory from `atelier keygen`')
    .requiredOption('--data <dir>', 'data directory (LevelDB: candidates, signing record, command log)')
    .option('--ticket <file>', 'operator tickets { private, public } (default: <keys>/tickets.json)')
    .option('--listen-private <ma...>', 'private-plane listen multiaddrs', ['/ip4/127.0.0.1/tcp/0'])
    .option('--announce-private <ma...>', 'private-plane multiaddrs to announce to the committee instead of the listen ones (behind a NAT or a proxy); `none`: announce none, peers dial what their --bootstrap gives them')
    .option('--listen-public <ma...>', 'public-plane listen multiaddrs', ['/ip4/127.0.0.1/tcp/0'])
    .option('--bootstrap <ma...>', 'other members\' private-plane multiaddrs (with /p2p/ ids)', [])
    .option('--metrics-port <n>', 'serve Prometheus /metrics on 127.0.0.1:<n>')
    .option('--rpc-port <n>', 'serve the ingestion JSON-RPC on 127.0.0.1:<n>')
    .option('--status-port <n>', 'serve the live status page on <status-host>:<n> (0: any free port)')
    .option('--status-host <host>', 'the status page\'s interface (only loopback unless you say so)', '127.0.0.1')
    .addOption(new Option('--quote-provider <kind>', 'where quotes come from').choices(['configfs', 'test-td']).default('configfs'))
    .option('--test-td <file>', 'test-td: the exported test TD')
    .option('--mrtd <hex>', 'test-td: the MR_TD to claim (default: the acl\'s first)')
    .option('--collateral <file>', 'configfs: collateral JSON file')
    .option('--pccs-url <url>', 'configfs: PCCS to fetch collateral from')
    .option('--no-warm-state', 'prove every parent from the chain RPC, never from this member\'s own post-state (for comparison)')
    .requiredOption('--beacon-api <url>', 'this member\'s beacon node (REST API): the slot clock and each slot\'s payload attributes come from it')
    .option('--extra-data <text>', 'extra data of the blocks this member leads (UTF-8, at most 32 bytes)', 'atelier')
    .option('--gas-limit-target <gas>', 'gas limit the blocks this member leads move toward (default: the parent\'s)')
    .addOption(new Option('--log-format <format>').choices(['json', 'pretty']).default('json'))
    .addOption(new Option('--log-level <level>').choices(['debug', 'info', 'warn', 'error']).default('info'))
    .action(async (opts: NodeOptions) => {
      const log = createLogger({ format: opts.logFormat, level: opts.logLevel })
      const config = await loadConfigFile(opts.config)
      const keys = await new FileKeyStore(opts.keys).load()
      const node = await MemberNode.start({
        config,
        keys,
        dataDir: opts.data,
        quoteProvider: await quoteProviderFrom({ kind: opts.quoteProvider, testTd: opts.testTd, mrtd: opts.mrtd, collateral: opts.collateral, pccsUrl: opts.pccsUrl }, config),
        operatorTickets: await readTickets(opts.ticket ?? defaultTicketPath(opts.keys)),
        listenPrivate: opts.listenPrivate,
        announcePrivate: opts.announcePrivate?.filter(a => a !== 'none'),
        listenPublic: opts.listenPublic,
        bootstrap: opts.bootstrap,
        metricsPort: port(opts.metricsPort, '--metrics-port'),
        ingestionPort: port(opts.rpcPort, '--rpc-port'),
        beaconApi: beaconUrl(opts.beaconApi),
        warmState: opts.warmState,
        extraData: opts.extraData != null ? new TextEncoder().encode(opts.extraData) : undefined,
        gasLimitTarget: opts.gasLimitTarget != null ? gasLimit(opts.gasLimitTarget) : undefined,
        logger: log,
        simulationHook: hooks.simulationHook,
        openHook: hooks.openHook
      })
      const statusPort = port(opts.statusPort, '--status-port')
      const status = statusPort != null ? new MemberStatus(node) : undefined
      const page = status != null && statusPort != null ? await status.serve(statusPort, opts.statusHost) : undefined
      if (page != null) { log.info('status-page', { url: page.url }) }
      process.stdout.write(JSON.stringify({ event: 'ready', member: node.index, ...node.addresses(), privatePeerId: node.privatePlane.peerId.toString(), rpcPort: node.ingestionPort, metricsPort: node.metricsPort, statusPort: page?.port }) + '\n')
      await new Promise<void>(resolve => {
        const shutdown = (signal: string): void => {
          log.info('shutdown', { signal })
          status?.stop()
          Promise.all([page?.close(), node.stop()]).then(() => { resolve() }, err => {
            log.error('shutdown-failed', { message: (err as Error).message })
            resolve()
          })
        }
        process.once('SIGINT', () => { shutdown('SIGINT') })
        process.once('SIGTERM', () => { shutdown('SIGTERM') })
      })
    })
}
