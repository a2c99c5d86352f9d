/**
 * The one-command local testnet, the closed loop by default: anvil on loopback mining only what the
 * proposer gives it, the testnet's consensus layer (beacon-source.ts announces each slot's payload
 * attributes, proposer.ts puts each sealed candidate on chain and checks it with a second EVM), a
 * software test TD, keys, tickets and a config for N members, the members as separate `atelier node`
 * processes, a co-builder sending hints, a load generator and a follower (light subscriber) that
 * verifies every candidate.
 *
 * This file is the run's lifecycle (chain, members, follower, proposer, the load's and hints' timing,
 * key rotation, the summary); provisioning, the co-builder, the follower, the proposer, the files and
 * the figures live beside it. It stays past 300 lines because the start-up order reads best in one
 * place.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { detectChainInfo, ChainRpc } from '../../chain/index.ts'
import { Reader } from '../../p2p/index.ts'
import { toHex } from '../../proto/index.ts'
import { fetchBlobsBundle } from '../atelier.ts'
import { silentLogger } from '../log.ts'
import { TestnetStatus } from '../status/testnet-status.ts'
import { Anvil, ExternalChain } from './anvil.ts'
import { BeaconEventSource } from './beacon-source.ts'
import { CobuilderDriver } from './cobuilder-driver.ts'
import { TestnetFollower } from './follower.ts'
import { LoadGenerator } from './load.ts'
import { MemberFigures } from './member-figures.ts'
import { MemberLinks } from './member-links.ts'
import { MemberProcess } from './member-process.ts'
import { Proposer } from './proposer.ts'
import { TestnetProvision } from './provision.ts'
import { writeCandidateFiles, writeSlotFiles } from './run-files.ts'
import { verdictWords } from './second-evm.ts'
import { closedLoopStats, runStats, slotProgress } from './stats.ts'
import type { DevChain } from './anvil.ts'
import type { LogLine } from './member-process.ts'
import type { ProposedBlock } from './proposer.ts'
import type { TestnetOptions } from './testnet-options.ts'
import type { ChainInfo } from '../../chain/index.ts'
import type { Config } from '../../config/index.ts'
import type { TestTd } from '../../enclave/testing.ts'
import type { CandidateValue } from '../../proto/index.ts'
import type { Logger } from '../log.ts'
import type { StatusServer } from '../status/status-server.ts'
import type { PrivateKey } from '@libp2p/interface'

export class Testnet {
  readonly dir: string
  readonly options: TestnetOptions
  readonly log: Logger
  readonly members: MemberProcess[] = []
  /** what the members' logs say of each slot (member-figures.ts) */
  readonly figures = new MemberFigures()
  readonly sealLatency = this.figures.sealLatency
  readonly openedAt = this.figures.openedAt
  readonly simulationMs = this.figures.simulationMs
  readonly sealerWarm = this.figures.sealerWarm
  /** wall-clock ms when the payload attributes for the slot went out */
  readonly announcedAt = new Map<number, number>()
  /** the first second-EVM mismatch, in words: the closed loop's run has failed */
  failure?: string
  /** the chain: the testnet's own anvil, or the user's (`chainRpc`) */
  anvil!: DevChain
  beacon!: BeaconEventSource
  proposer?: Proposer
  /** the testnet's status page (with `statusPort`) */
  status?: TestnetStatus
  statusPage?: StatusServer
  chain!: ChainInfo
  load?: LoadGenerator
  follower?: TestnetFollower
  readonly #temporary: boolean
  #provision!: TestnetProvision
  #cobuilder?: CobuilderDriver
  #loadTimer?: NodeJS.Timeout
  #stopped = false
  #loadStopped = false
  /** where members listen and, with `linkProxies`, the links between them: delay, partition, heal */
  readonly links: MemberLinks

  private constructor (dir: string, temporary: boolean, options: TestnetOptions) {
    this.dir = dir
    this.#temporary = temporary
    this.options = options
    this.links = new MemberLinks(options.linkProxies === true)
    this.log = options.logger ?? silentLogger
  }

  static async start (options: TestnetOptions = {}): Promise<Testnet> {
    const dir = options.out ?? await mkdtemp(join(tmpdir(), 'atelier-testnet-'))
    await mkdir(dir, { recursive: true })
    const net = new Testnet(dir, options.out == null, options)
    try {
      await net.#start()
    } catch (err) {
      await net.stop()
      throw err
    }
    return net
  }

  get n (): number {
    return this.options.members ?? 4
  }

  /** The pinned config (it changes on key rotation). */
  get config (): Config {
    return this.#provision.config
  }

  get configPath (): string {
    return this.#provision.configPath
  }

  get hintsSent (): number {
    return this.#cobuilder?.sent ?? 0
  }

  get hintsAccepted (): number {
    return this.#cobuilder?.accepted ?? 0
  }

  async #start (): Promise<void> {
    const blockTime = this.options.blockTime ?? 1
    const closedLoop = this.options.closedLoop !== false
    // the closed loop: anvil mines only when the proposer tells it to, taking transactions in arrival order
    if (this.options.chainRpc != null && !closedLoop) {
      throw new Error('--chain-rpc drives the given chain: it needs the closed loop')
    }
    this.anvil = this.options.chainRpc != null
      ? await ExternalChain.connect(this.options.chainRpc)
      : await Anvil.start(closedLoop ? { noMining: true, order: 'fifo', timestamp: Math.floor(Date.now() / 1000) } : { blockTime })
    this.chain = await detectChainInfo(new ChainRpc(this.anvil.url))
    const chainRpc = this.options.memberChainRpc == null ? this.anvil.url : await this.options.memberChainRpc(this.anvil.url)
    // the config pins the rules anvil runs: they enter ATELIER_ROOT, and every member checks them at start
    const chain = { chainId: this.chain.chainId, forks: [{ name: this.chain.hardfork as 'bpo1', timestamp: 0 }] }
    this.beacon = await BeaconEventSource.following({
      rpc: new ChainRpc(this.anvil.url),
      secondsPerSlot: blockTime,
      rules: chain,
      withdrawalsPerSlot: this.options.withdrawalsPerSlot ?? (closedLoop ? 0 : 2),
      follow: !closedLoop
    })
    this.#provision = await TestnetProvision.create({ dir: this.dir, members: this.n, chainRpc, blockTime, tuning: this.options.tuning, chain })
    // the load's set-up changes anvil's state with cheatcodes: done before any member proves state
    if (this.options.load !== false) {
      this.load = new LoadGenerator({
        anvil: this.anvil,
        chain: this.chain,
        targets: () => this.members.filter(m => m.running && m.ready?.rpcPort != null).map(m => `http://127.0.0.1:${m.ready?.rpcPort}`),
        txsPerSlot: this.options.txsPerSlot ?? 10,
        blobTxsPerSlot: this.options.blobTxsPerSlot,
        bundleEvery: 3,
        chainMined: closedLoop,
        fundBatch: this.options.loadAccounts,
        holders: this.options.loadAccounts == null ? undefined : Math.max(1, Math.floor(this.options.loadAccounts / 4))
      })
      await this.load.setup()
    }
    if (this.options.statusPort != null) {
      this.status = new TestnetStatus({ members: this.n, statusPort: i => this.members[i]?.running === true ? this.members[i].ready?.statusPort : undefined })
      this.statusPage = await this.status.serve(this.options.statusPort)
    }
    for (let i = 0; i < this.n; i++) {
      await this.startMember(i)
    }
    this.log.info('testnet-members-ready', { members: this.n, dir: this.dir })
    if (this.options.follower !== false) {
      await this.startFollower()
    }
    if (this.options.cobuilder !== false) {
      this.#cobuilder = await CobuilderDriver.start(this.config, await this.clientKey('cobuilder'), this.log)
    }
    this.beacon.addEventListener('environment', evt => {
      const slot = (evt as CustomEvent<{ slot: number }>).detail.slot
      this.announcedAt.set(slot, Date.now())
      void this.#onSlot(slot)
    })
    if (closedLoop) {
      this.proposer = new Proposer({
        rpc: new ChainRpc(this.anvil.url),
        source: this.beacon,
        candidate: async (slot, parentHash, deadline) => this.follower?.candidateBy(slot, parentHash, deadline),
        blobs: async c => {
          if (this.follower == null) { throw new Error('no follower to fetch blobs with') }
          return fetchBlobsBundle(this.follower.reader, c)
        },
        log: this.log,
        onBlock: b => { this.#onBlock(b) }
      })
      this.proposer.start()
    }
  }

  /** A block went on chain: one progress line, from the candidate or as a fallback. */
  #onBlock (b: ProposedBlock): void {
    if (this.options.out != null) {
      writeSlotFiles(this.dir, b).catch(err => { this.log.warn('slot-write-failed', { slot: b.slot, message: (err as Error).message }) })
    }
    const c = b.candidate
    const mismatch = b.verdict?.mismatches[0]
    if (mismatch != null) {
      this.failure ??= `second-EVM mismatch in slot ${b.slot}: ${mismatch.field}: candidate ${mismatch.candidate}, chain ${mismatch.chain}`
    }
    if (b.refused?.[0] != null) {
      this.failure ??= `slot ${b.slot}: the chain refused a transaction of the candidate: ${b.refused[0]}`
    }
    this.status?.proposed({ slot: b.slot, from: b.from, verified: c != null && b.verdict?.mismatches.length === 0 })
    this.options.onProgress?.({ ...slotProgress(b.slot, c, b.hash, this.n, this.sealLatency.get(b.slot)), from: b.from, blobs: b.blobs, secondEvm: b.verdict == null ? undefined : verdictWords(b.verdict) })
  }

  memberArgs (i: number): string[] {
    const others = this.members.filter(m => m.index !== i && m.running && m.ready != null)
      .map(m => ({ index: m.index, private: m.ready?.private ?? [], privatePeerId: m.ready?.privatePeerId ?? '' }))
    const { listen, bootstrap } = this.links.args(i, others)
    return [
      ...listen,
      '--config', this.configPath,
      '--keys', this.#provision.keysDir(i),
      '--data', this.#provision.dataDir(i),
      '--quote-provider', 'test-td',
      '--test-td', this.#provision.testTdPath,
      '--rpc-port', '0',
      '--metrics-port', '0',
      ...(this.options.statusPort != null ? ['--status-port', '0'] : []),
      // member-N.log keeps each slot's timeline (slot-simulated, simulation-recorded, …) for diagnosis
      '--log-level', 'debug',
      '--beacon-api', this.beacon.url,
      ...(this.options.warmState === false ? ['--no-warm-state'] : []),
      ...(bootstrap.length > 0 ? ['--bootstrap', ...bootstrap] : [])
    ]
  }

  /** Starts (or restarts) member `i` as a process. */
  async startMember (i: number): Promise<void> {
    await this.links.prepare(i)
    const proc = new MemberProcess(i, this.memberArgs(i), join(this.dir, `member-${i}.log`), this.options.memberEntries?.[i])
    proc.onLog = line => { this.#onMemberLog(i, line) }
    this.members[i] = proc
    await proc.start()
  }

  /** Kills member `i` at once (a crash). */
  killMember (i: number): void {
    this.members[i]?.kill('SIGKILL')
  }

  async stopMember (i: number): Promise<void> {
    await this.members[i]?.stop()
  }

  #onMemberLog (i: number, line: LogLine): void {
    if (!this.figures.read(i, line) && line.level === 'error') {
      this.log.warn('member-error', { member: i, event: line.event, message: line.message })
    }
  }

  async clientKey (role: 'reader' | 'cobuilder', ttl = 86_400): Promise<{ key: PrivateKey, jwt: string }> {
    return this.#provision.clientKey(role, ttl)
  }

  /** An operator (member) ticket for any peer id: for fault tests that need an intruder with a real ticket. */
  async operatorTicket (peerId: string, ttl: number): Promise<string> {
    return this.#provision.operatorTicket(peerId, ttl)
  }

  /** The testnet's software TD (shared by every member), for intruders that present real quotes. */
  get testTd (): TestTd {
    return this.#provision.td
  }

  publicAddrs (): string[] {
    return this.members.filter(m => m.running).flatMap(m => m.ready?.public.slice(0, 1) ?? [])
  }

  /** The verified candidates, by slot (the follower's). */
  get candidates (): Map<number, CandidateValue> {
    return this.follower?.candidates ?? new Map()
  }

  /** Wall-clock ms when the follower verified each slot's candidate. */
  get verifiedAt (): Map<number, number> {
    return this.follower?.verifiedAt ?? new Map()
  }

  get reader (): Reader | undefined {
    return this.follower?.reader
  }

  async startFollower (): Promise<TestnetFollower> {
    this.follower = await TestnetFollower.start({
      config: this.config,
      ticket: await this.clientKey('reader'),
      bootstrap: this.publicAddrs(),
      // in the closed loop the proposer reports each slot once its block is on chain
      onCandidate: c => { if (this.options.closedLoop === false) { void this.#reportCandidate(c) } }
    })
    return this.follower
  }

  /** Without the closed loop: one line per verified candidate. */
  async #reportCandidate (c: CandidateValue): Promise<void> {
    // the sealer's log line (with its latency) may trail the candidate by a few ms
    for (let i = 0; i < 20 && !this.sealLatency.has(c.slot) && !this.#stopped; i++) {
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    this.options.onProgress?.(slotProgress(c.slot, c, `0x${toHex(c.header.blockHash)}`, this.n, this.sealLatency.get(c.slot)))
  }

  async #sendHint (slot: number): Promise<void> {
    if (this.#cobuilder == null || this.load == null || this.#loadStopped) { return }
    await this.#cobuilder.send(slot, [await this.load.freshTransfer()], this.publicAddrs())
  }

  /** Payload attributes for `slot` went out: the load and a hint for the slot after it. */
  async #onSlot (slot: number): Promise<void> {
    if (this.#stopped) { return }
    // the next slot's load arrives mid-slot, as a mempool's trickle would, not in the burst at the
    // slot boundary when every member simulates the slot that just opened
    clearTimeout(this.#loadTimer)
    this.#loadTimer = setTimeout(() => {
      if (this.#stopped || this.#loadStopped) { return }
      this.load?.tick(slot + 1).catch(err => { this.log.warn('load-failed', { slot: slot + 1, message: (err as Error).message }) })
    }, (this.options.blockTime ?? 1) * 500)
    this.#loadTimer.unref()
    await this.#sendHint(slot + 1)
  }

  /**
   * Stops sending new transactions, bundles and hints (the pool still drains into the next slots);
   * returns the load generator, whose `submitted` and `bundled` say what was sent.
   */
  stopLoad (): LoadGenerator | undefined {
    this.#loadStopped = true
    clearTimeout(this.#loadTimer)
    return this.load
  }

  /** Resolves once the follower has verified `count` candidates (or `timeoutMs` passes: rejects). */
  async waitForCandidates (count: number, timeoutMs = 120_000): Promise<void> {
    if (this.follower == null) { throw new Error('the testnet runs without a follower: nothing verifies candidates') }
    await this.follower.waitFor(count, timeoutMs)
  }

  /** Writes every verified candidate as SSZ and JSON into `<dir>/candidates`. */
  async writeCandidates (): Promise<void> {
    await writeCandidateFiles(this.dir, this.candidates)
  }

  summary (): Record<string, unknown> {
    return {
      members: this.n,
      ...runStats(this.candidates, this.sealLatency),
      transactionsSubmitted: this.load?.submitted.size ?? 0,
      hintsSent: this.hintsSent,
      hintsAccepted: this.hintsAccepted,
      simulationDivergence: this.figures.divergence,
      ...(this.proposer == null ? {} : closedLoopStats(this.proposer, this.figures.warmShare)),
      failure: this.failure,
      dir: this.#temporary ? undefined : this.dir
    }
  }

  async stop (): Promise<void> {
    if (this.#stopped) { return }
    this.#stopped = true
    await this.proposer?.stop()
    this.status?.stop()
    await this.statusPage?.close()
    clearTimeout(this.#loadTimer)
    await this.#cobuilder?.stop()
    await this.follower?.stop()
    await Promise.allSettled(this.members.map(async m => m.stop()))
    await this.links.stop()
    await this.beacon?.stop()
    await this.anvil?.stop()
    if (!this.#temporary) {
      await this.writeCandidates().catch(() => {})
    } else {
      await rm(this.dir, { recursive: true, force: true })
    }
  }

  /**
   * Rotates member `i`'s BLS key (`keygen --rotate`), pins the new roster and, as the design's rotation
   * does, retires and replaces the lattice: a new `ATELIER_ROOT`, so new topics and a new signing domain.
   * Everyone restarts on the new config.
   */
  async rotateKey (i: number): Promise<{ before: Config, after: Config }> {
    await Promise.all(this.members.map(async m => m.stop()))
    const rotated = await this.#provision.rotateKey(i)
    for (let j = 0; j < this.n; j++) {
      await this.startMember(j)
    }
    await this.follower?.stop()
    await this.startFollower()
    return rotated
  }
}
