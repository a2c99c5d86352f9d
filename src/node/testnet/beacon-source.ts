/**
 * The testnet's consensus layer, as far as builders see it: a beacon-API-compatible HTTP server on
 * loopback that serves `GET /eth/v1/beacon/genesis`, `GET /eth/v1/config/spec` and the
 * `payload_attributes` event stream (`GET /eth/v1/events?topics=payload_attributes`), in the beacon
 * API's own JSON (Lodestar's types encode it). It follows the execution chain's head and, for each new
 * head, announces the next slot on one slot clock (timestamp = genesis + slot × seconds per slot):
 * the proposer (`slot mod 64`, paying to that proposer's address), a prevRandao and a parent beacon
 * root derived from the slot and the parent (stand-ins for the beacon state's), and `withdrawals`
 * per slot with rising indices.
 *
 * Until the closed loop lands, the chain mines on its own; this source only follows it.
 */
import { createServer } from 'node:http'
import { environmentEvent, SlotClock } from '../../beacon/index.ts'
import { HeadWatcher } from '../../chain/index.ts'
import { rulesAt } from '../../core/index.ts'
import { concatBytes, fromHex, keccak256 } from '../../proto/index.ts'
import { silentLogger } from '../log.ts'
import type { SlotEnvironment } from '../../beacon/index.ts'
import type { ChainRpc, RpcBlock, SlotBoundary } from '../../chain/index.ts'
import type { ForkSchedule } from '../../core/index.ts'
import type { WithdrawalValue } from '../../proto/index.ts'
import type { Logger } from '../log.ts'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'

export const TESTNET_PROPOSERS = 64
/**
 * the testnet's genesis lies this many slots before the chain's first block, so slot numbers and
 * block numbers differ (a missed slot makes them drift apart further, as on a real chain)
 */
export const TESTNET_SLOT_OFFSET = 1000

export interface BeaconSourceOptions {
  /** the execution chain whose head it follows */
  rpc: ChainRpc
  genesisTime: number
  secondsPerSlot: number
  /** the execution chain's rules: the event's consensus fork follows them (Cancun → deneb, …) */
  rules: ForkSchedule
  /** withdrawals announced per slot (default 0) */
  withdrawalsPerSlot?: number
  /** the fee recipient each proposer suggests (default: an address derived from its index) */
  feeRecipientOf?(proposerIndex: number): Uint8Array
  /** ms between head polls (default 100) */
  headPollMs?: number
  /**
   * follow the chain's head and announce the slot after each new one (default); false when a proposer
   * drives the chain and announces each slot itself (the closed loop)
   */
  follow?: boolean
  /** 127.0.0.1 port (default: any free one) */
  port?: number
  log?: Logger
}

const CONSENSUS_FORK: Record<string, SlotEnvironment['fork']> = { cancun: 'deneb', prague: 'electra' }

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

function u64 (n: number | bigint): Uint8Array {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, BigInt(n))
  return b
}

/** The testnet proposer's fee recipient: the last 20 bytes of keccak("atelier testnet proposer" ‖ index). */
export function testnetFeeRecipient (proposerIndex: number): Uint8Array {
  return keccak256(concatBytes(utf8('atelier testnet proposer'), u64(proposerIndex))).slice(12)
}

/** A stand-in beacon block root for an execution block (the testnet has no beacon blocks). */
export function testnetBeaconRoot (executionHash: Uint8Array): Uint8Array {
  return keccak256(concatBytes(utf8('atelier testnet beacon block'), executionHash))
}

export class BeaconEventSource extends EventTarget {
  readonly clock: SlotClock
  url = ''
  readonly #o: BeaconSourceOptions
  readonly #log: Logger
  readonly #streams = new Set<ServerResponse>()
  readonly #watcher: HeadWatcher
  #server?: Server
  #withdrawalIndex = 0n
  #latest?: SlotEnvironment

  private constructor (o: BeaconSourceOptions) {
    super()
    this.#o = o
    this.#log = o.log ?? silentLogger
    this.clock = new SlotClock(o.genesisTime, o.secondsPerSlot)
    this.#watcher = new HeadWatcher(o.rpc, {
      intervalMs: o.headPollMs ?? 100,
      onSlot: b => { this.#onHead(b) },
      onError: err => { this.#log.debug('beacon-source-rpc-error', { message: err.message }) }
    })
  }

  /** A source whose genesis is `TESTNET_SLOT_OFFSET` slots before the chain's block 0. */
  static async following (o: Omit<BeaconSourceOptions, 'genesisTime'>): Promise<BeaconEventSource> {
    const genesis = await o.rpc.call<RpcBlock>('eth_getBlockByNumber', ['0x0', false])
    return BeaconEventSource.start({ ...o, genesisTime: Number(BigInt(genesis.timestamp)) - TESTNET_SLOT_OFFSET * o.secondsPerSlot })
  }

  static async start (o: BeaconSourceOptions): Promise<BeaconEventSource> {
    const source = new BeaconEventSource(o)
    const server = createServer((req, res) => { source.#serve(req, res) })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(o.port ?? 0, '127.0.0.1', () => { resolve() })
    })
    source.#server = server
    const addr = server.address()
    source.url = `http://127.0.0.1:${typeof addr === 'object' && addr != null ? addr.port : 0}`
    if (o.follow !== false) { source.#watcher.start() }
    return source
  }

  /** The newest environment announced. */
  get latest (): SlotEnvironment | undefined {
    return this.#latest
  }

  /**
   * The environment of `slot` on `parent` (default: the next slot on the clock after the parent's
   * time).
   */
  environmentAfter (parent: SlotBoundary, slot = this.clock.slotAfter(parent.timestamp)): SlotEnvironment {
    const timestamp = this.clock.timestampOf(slot)
    const proposerIndex = slot % TESTNET_PROPOSERS
    const parentHash = fromHex(parent.parentHash)
    const hardfork = rulesAt(this.#o.rules, timestamp).hardfork
    const withdrawals: WithdrawalValue[] = []
    for (let i = 0; i < (this.#o.withdrawalsPerSlot ?? 0); i++) {
      const index = this.#withdrawalIndex++
      withdrawals.push({ index, validatorIndex: index % 1000n, address: testnetFeeRecipient(1000 + Number(index % 16n)), amount: 1_000_000n + index })
    }
    const parentRoot = testnetBeaconRoot(parentHash)
    return {
      fork: CONSENSUS_FORK[hardfork] ?? 'fulu',
      slot,
      proposerIndex,
      parentBlockRoot: parentRoot,
      parentBlockNumber: parent.parentNumber,
      parentBlockHash: parent.parentHash.toLowerCase(),
      timestamp,
      prevRandao: keccak256(concatBytes(utf8('atelier testnet randao'), u64(slot), parentHash)),
      feeRecipient: this.#o.feeRecipientOf?.(proposerIndex) ?? testnetFeeRecipient(proposerIndex),
      withdrawals,
      parentBeaconBlockRoot: parentRoot
    }
  }

  #onHead (b: SlotBoundary): void {
    this.announce(this.environmentAfter(b))
  }

  /** Sends one environment to every subscriber (and as an `environment` event in this process). */
  announce (env: SlotEnvironment): void {
    this.#latest = env
    const frame = `event: payload_attributes\ndata: ${JSON.stringify(environmentEvent(env))}\n\n`
    for (const res of this.#streams) { res.write(frame) }
    this.dispatchEvent(new CustomEvent<SlotEnvironment>('environment', { detail: env }))
  }

  #serve (req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    }
    if (req.method !== 'GET') {
      json(405, { code: 405, message: 'only GET is served' })
    } else if (url.pathname === '/eth/v1/beacon/genesis') {
      json(200, { data: { genesis_time: String(this.clock.genesisTime), genesis_validators_root: `0x${'00'.repeat(32)}`, genesis_fork_version: '0x00000000' } })
    } else if (url.pathname === '/eth/v1/config/spec') {
      json(200, { data: { SECONDS_PER_SLOT: String(this.clock.secondsPerSlot), SLOT_DURATION_MS: String(this.clock.secondsPerSlot * 1000) } })
    } else if (url.pathname === '/eth/v1/events') {
      const topics = url.searchParams.getAll('topics').flatMap(t => t.split(','))
      if (!topics.includes('payload_attributes')) {
        json(400, { code: 400, message: 'this source serves the payload_attributes topic only' })
        return
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
      res.write(': atelier testnet beacon source\n\n')
      this.#streams.add(res)
      req.on('close', () => { this.#streams.delete(res) })
    } else {
      json(404, { code: 404, message: `${url.pathname} is not served by the testnet's beacon source` })
    }
  }

  async stop (): Promise<void> {
    await this.#watcher.stop()
    for (const res of this.#streams) { res.end() }
    this.#streams.clear()
    if (this.#server != null) {
      this.#server.closeAllConnections()
      await new Promise(resolve => this.#server?.close(resolve))
    }
  }
}
