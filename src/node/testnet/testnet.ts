/**
 * The one-command local testnet: anvil on loopback, a software test TD, keys, tickets and a config
 * for N members, the members as separate `atelier node` processes, a co-builder sending hints, a load
 * generator and a follower (light subscriber) that verifies every candidate.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { exportJWK, generateKeyPair as generateJwkPair } from 'jose'
import { detectChainInfo, ChainRpc } from '../../chain/index.ts'
import { parseConfig } from '../../config/index.ts'
import { FileKeyStore, issueTicket, TestTd } from '../../enclave/index.ts'
import { leaderFor } from '../../machine/index.ts'
import { HintSender, Plane, policyFromConfig, Reader, TicketEvidenceSource } from '../../p2p/index.ts'
import { encodeMessage, signHint, toHex } from '../../proto/index.ts'
import { candidateToJson } from '../candidate-file.ts'
import { silentLogger } from '../log.ts'
import { Anvil } from './anvil.ts'
import { LoadGenerator } from './load.ts'
import { MemberProcess } from './member-process.ts'
import type { ChainInfo } from '../../chain/index.ts'
import type { Config, ConfigJson } from '../../config/index.ts'
import type { MemberKeys } from '../../enclave/index.ts'
import type { CandidateValue } from '../../proto/index.ts'
import type { Logger } from '../log.ts'
import type { LogLine } from './member-process.ts'
import type { JWK } from 'jose'

export interface TestnetOptions {
  members?: number
  /** seconds between anvil blocks (= slots) */
  blockTime?: number
  /** keep everything here instead of a temporary directory */
  out?: string
  txsPerSlot?: number
  /** test-only divergent members */
  faults?: Record<number, 'wrong-coinbase'>
  cobuilder?: boolean
  follower?: boolean
  load?: boolean
  tuning?: ConfigJson['tuning']
  logger?: Logger
  onProgress?(p: SlotProgress): void
}

export interface SlotProgress {
  slot: number
  leader: number
  txs: number
  gas: number
  signers: number
  committee: number
  sealLatencyMs?: number
  verified: boolean
}

interface Issuer { publicJwk: JWK, privateJwk: JWK }

const TEST_MRTD = 'a7'.repeat(48)

async function issuer (): Promise<Issuer> {
  const { publicKey, privateKey } = await generateJwkPair('EdDSA', { extractable: true })
  return { publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) }
}

export class Testnet {
  readonly dir: string
  readonly options: TestnetOptions
  readonly log: Logger
  readonly members: MemberProcess[] = []
  readonly candidates = new Map<number, CandidateValue>()
  readonly sealLatency = new Map<number, number>()
  /** wall-clock ms when the slot's leader opened it */
  readonly openedAt = new Map<number, number>()
  /** wall-clock ms when the follower yielded the verified candidate */
  readonly verifiedAt = new Map<number, number>()
  /** the sealer's own simulation time, ms */
  readonly simulationMs = new Map<number, number>()
  divergence = 0
  anvil!: Anvil
  chain!: ChainInfo
  config!: Config
  configPath!: string
  load?: LoadGenerator
  reader?: Reader
  hintsAccepted = 0
  hintsSent = 0
  readonly #temporary: boolean
  #td!: TestTd
  #operator!: Issuer
  #cobuilderIssuer!: Issuer
  #readerIssuer!: Issuer
  #keys: MemberKeys[] = []
  #cobuilder?: { plane: Plane, sender?: HintSender }
  #poll?: NodeJS.Timeout
  #loadTimer?: NodeJS.Timeout
  #head = -1
  #stopped = false
  #lattice = 'atelier-testnet'
  #waiters: Array<() => void> = []

  private constructor (dir: string, temporary: boolean, options: TestnetOptions) {
    this.dir = dir
    this.#temporary = temporary
    this.options = options
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

  async #start (): Promise<void> {
    const blockTime = this.options.blockTime ?? 1
    this.anvil = await Anvil.start({ blockTime })
    this.chain = await detectChainInfo(new ChainRpc(this.anvil.url))
    this.#td = await TestTd.create()
    await writeFile(join(this.dir, 'test-td.json'), JSON.stringify(await this.#td.export()), { mode: 0o600 })
    ;[this.#operator, this.#cobuilderIssuer, this.#readerIssuer] = await Promise.all([issuer(), issuer(), issuer()])
    for (let i = 0; i < this.n; i++) {
      this.#keys.push(await new FileKeyStore(this.#keysDir(i)).create({ force: true }))
    }
    await this.#writeConfig()
    for (let i = 0; i < this.n; i++) {
      await this.#writeTickets(i)
      await this.startMember(i)
    }
    this.log.info('testnet-members-ready', { members: this.n, dir: this.dir })
    if (this.options.load !== false) {
      this.load = new LoadGenerator({
        anvil: this.anvil,
        chain: this.chain,
        targets: () => this.members.filter(m => m.running && m.ready?.rpcPort != null).map(m => `http://127.0.0.1:${m.ready?.rpcPort}`),
        txsPerSlot: this.options.txsPerSlot ?? 10,
        bundleEvery: 3
      })
      await this.load.setup()
    }
    if (this.options.follower !== false) {
      await this.startFollower()
    }
    if (this.options.cobuilder !== false) {
      await this.#startCobuilder()
    }
    this.#poll = setInterval(() => { void this.#onTick() }, 200)
  }

  #keysDir (i: number): string {
    return join(this.dir, `member-${i}`, 'keys')
  }

  async #writeConfig (): Promise<void> {
    const json: ConfigJson = {
      lattice: this.#lattice,
      blockSchema: 'L1Post4844',
      mrtdAcl: [TEST_MRTD],
      chainRpc: this.anvil.url,
      committee: this.#keys.map(k => ({ blsPublicKey: toHex(k.bls.publicKey), proofOfPossession: toHex(k.bls.proofOfPossession) })),
      operatorJwtKey: this.#operator.publicJwk as never,
      coBuilderJwtKey: this.#cobuilderIssuer.publicJwk as never,
      readTicketKey: this.#readerIssuer.publicJwk as never,
      attestation: { trustedRootCaDer: Buffer.from(this.#td.rootDer).toString('base64') },
      tuning: {
        headPollMs: 100,
        leaderTimeoutMs: Math.max(500, Math.round((this.options.blockTime ?? 1) * 600)),
        markDoneDepth: 16,
        rosterAnnounceMs: 2000,
        ...this.options.tuning
      }
    }
    this.config = parseConfig(json)
    this.configPath = join(this.dir, 'config.json')
    await writeFile(this.configPath, JSON.stringify(json, null, 2) + '\n')
  }

  async #writeTickets (i: number): Promise<void> {
    const k = this.#keys[i]
    const ticket = async (key: MemberKeys['privatePlane']): Promise<string> => this.operatorTicket(peerIdFromPrivateKey(key).toString(), 86_400)
    await writeFile(join(this.#keysDir(i), 'tickets.json'), JSON.stringify({ private: await ticket(k.privatePlane), public: await ticket(k.publicPlane) }, null, 2) + '\n', { mode: 0o600 })
  }

  memberArgs (i: number): string[] {
    const bootstrap = this.members.filter(m => m.index !== i && m.running && m.ready != null).flatMap(m => m.ready?.private.slice(0, 1) ?? [])
    return [
      '--config', this.configPath,
      '--keys', this.#keysDir(i),
      '--data', join(this.dir, `member-${i}`, 'data'),
      '--quote-provider', 'test-td',
      '--test-td', join(this.dir, 'test-td.json'),
      '--rpc-port', '0',
      '--metrics-port', '0',
      // member-N.log keeps each slot's timeline (slot-simulated, simulation-recorded, …) for diagnosis
      '--log-level', 'debug',
      '--slot-seconds', String(this.options.blockTime ?? 1),
      ...(bootstrap.length > 0 ? ['--bootstrap', ...bootstrap] : []),
      ...(this.options.faults?.[i] != null ? ['--fault', this.options.faults[i]] : [])
    ]
  }

  /** Starts (or restarts) member `i` as a process. */
  async startMember (i: number): Promise<void> {
    const proc = new MemberProcess(i, this.memberArgs(i), join(this.dir, `member-${i}.log`))
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
    if (line.event === 'slot-opened' && typeof line.slot === 'number' && typeof line.openedAt === 'number') {
      this.openedAt.set(line.slot, line.openedAt)
    } else if (line.event === 'slot-sealed' && line.sealer === 'self' && typeof line.slot === 'number') {
      if (typeof line.latencyMs === 'number') { this.sealLatency.set(line.slot, line.latencyMs) }
      if (typeof line.simulationMs === 'number') { this.simulationMs.set(line.slot, line.simulationMs) }
    } else if (line.event === 'simulation-divergence') {
      this.divergence++
    } else if (line.level === 'error') {
      this.log.warn('member-error', { member: i, event: line.event, message: line.message })
    }
  }

  async clientKey (role: 'reader' | 'cobuilder', ttl = 86_400): Promise<{ key: Awaited<ReturnType<typeof generateKeyPair>>, jwt: string }> {
    const key = await generateKeyPair('Ed25519')
    const jwt = await issueTicket({ role, subject: peerIdFromPrivateKey(key).toString(), expiresAt: Math.floor(Date.now() / 1000) + ttl },
      (role === 'reader' ? this.#readerIssuer : this.#cobuilderIssuer).privateJwk)
    return { key, jwt }
  }

  /** An operator (member) ticket for any peer id: for fault tests that need an intruder with a real ticket. */
  async operatorTicket (peerId: string, ttl: number): Promise<string> {
    return issueTicket({ role: 'member', subject: peerId, expiresAt: Math.floor(Date.now() / 1000) + ttl }, this.#operator.privateJwk)
  }

  /** The testnet's software TD (shared by every member), for intruders that present real quotes. */
  get testTd (): TestTd {
    return this.#td
  }

  publicAddrs (): string[] {
    return this.members.filter(m => m.running).flatMap(m => m.ready?.public.slice(0, 1) ?? [])
  }

  async startFollower (): Promise<Reader> {
    const { key, jwt } = await this.clientKey('reader')
    const reader = await Reader.start({ config: this.config, ticket: jwt, privateKey: key, bootstrap: this.publicAddrs() })
    this.reader = reader
    void (async () => {
      for await (const c of reader) {
        this.verifiedAt.set(c.slot, Date.now())
        this.candidates.set(c.slot, c)
        // the sealer's log line (with its latency) may trail the candidate by a few ms
        for (let i = 0; i < 20 && !this.sealLatency.has(c.slot) && !this.#stopped; i++) {
          await new Promise(resolve => setTimeout(resolve, 50))
        }
        this.options.onProgress?.({
          slot: c.slot,
          leader: leaderFor(c.slot, this.n),
          txs: c.body.length,
          gas: c.header.gasUsed,
          signers: c.committeeRoster.length,
          committee: this.n,
          sealLatencyMs: this.sealLatency.get(c.slot),
          verified: true
        })
        for (const w of this.#waiters.splice(0)) { w() }
      }
    })()
    return reader
  }

  async #startCobuilder (): Promise<void> {
    const { key, jwt } = await this.clientKey('cobuilder')
    const plane = await Plane.create({
      name: 'cobuilder',
      privateKey: key,
      listen: [],
      policy: policyFromConfig(this.config, ['member']),
      evidence: new TicketEvidenceSource(jwt),
      topics: []
    })
    this.#cobuilder = { plane }
  }

  async #sendHint (slot: number): Promise<void> {
    const cb = this.#cobuilder
    if (cb == null || this.load == null) { return }
    try {
      if (cb.sender == null) {
        const target = this.publicAddrs()[0]
        if (target == null) { return }
        await cb.plane.connect(target)
        cb.sender = await HintSender.open(cb.plane, cb.plane.node.getPeers()[0])
      }
      const hintKey = new Uint8Array(32).fill(0x42)
      const hint = signHint(hintKey, slot, { txs: [await this.load.freshTransfer()], revertProtected: false }, this.config.root().bytes)
      this.hintsSent++
      const verdict = await cb.sender.send(hint)
      if (verdict.accepted) { this.hintsAccepted++ }
    } catch (err) {
      // the member went away: reconnect to another one next slot
      await cb.sender?.close()
      cb.sender = undefined
      this.log.debug('hint-failed', { slot, message: (err as Error).message })
    }
  }

  async #onTick (): Promise<void> {
    if (this.#stopped) { return }
    let head: number
    try {
      head = Number(BigInt(await this.anvil.rpc<string>('eth_blockNumber')))
    } catch {
      return
    }
    if (head <= this.#head) { return }
    this.#head = head
    // the next slot's load arrives mid-slot, as a mempool's trickle would, not in the burst at the
    // block boundary when every member simulates the slot that just opened
    clearTimeout(this.#loadTimer)
    this.#loadTimer = setTimeout(() => {
      if (this.#stopped) { return }
      this.load?.tick(head + 1).catch(err => { this.log.warn('load-failed', { slot: head + 1, message: (err as Error).message }) })
    }, (this.options.blockTime ?? 1) * 500)
    this.#loadTimer.unref()
    await this.#sendHint(head + 2)
  }

  /** Resolves once the follower has verified `count` candidates (or `timeoutMs` passes: rejects). */
  async waitForCandidates (count: number, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.candidates.size < count) {
      if (Date.now() > deadline) {
        throw new Error(`only ${this.candidates.size} of ${count} candidates verified within ${timeoutMs} ms`)
      }
      await new Promise<void>(resolve => {
        const t = setTimeout(resolve, 500)
        this.#waiters.push(() => { clearTimeout(t); resolve() })
      })
    }
  }

  /** Writes every verified candidate as SSZ and JSON into `<dir>/candidates`. */
  async writeCandidates (): Promise<void> {
    const out = join(this.dir, 'candidates')
    await mkdir(out, { recursive: true })
    for (const [slot, c] of this.candidates) {
      await writeFile(join(out, `${slot}.ssz`), encodeMessage('Candidate', c))
      await writeFile(join(out, `${slot}.json`), JSON.stringify(candidateToJson(c), null, 2) + '\n')
    }
  }

  summary (): Record<string, unknown> {
    const slots = [...this.candidates.keys()].sort((a, b) => a - b)
    const lat = [...this.sealLatency.entries()].filter(([s]) => this.candidates.has(s)).map(([, ms]) => ms).sort((a, b) => a - b)
    const pct = (p: number): number | undefined => lat.length === 0 ? undefined : lat[Math.min(lat.length - 1, Math.ceil(p / 100 * lat.length) - 1)]
    const included = [...this.candidates.values()].reduce((n, c) => n + c.body.length, 0)
    return {
      members: this.n,
      candidatesVerified: this.candidates.size,
      firstSlot: slots[0],
      lastSlot: slots.at(-1),
      skippedSlots: slots.length > 0 ? (slots[slots.length - 1] - slots[0] + 1) - slots.length : 0,
      transactionsIncluded: included,
      transactionsSubmitted: this.load?.submitted.size ?? 0,
      hintsSent: this.hintsSent,
      hintsAccepted: this.hintsAccepted,
      sealLatencyP50Ms: pct(50),
      sealLatencyP95Ms: pct(95),
      simulationDivergence: this.divergence,
      dir: this.#temporary ? undefined : this.dir
    }
  }

  async stop (): Promise<void> {
    if (this.#stopped) { return }
    this.#stopped = true
    clearInterval(this.#poll)
    clearTimeout(this.#loadTimer)
    for (const w of this.#waiters.splice(0)) { w() }
    await this.#cobuilder?.sender?.close()
    await this.#cobuilder?.plane.stop().catch(() => {})
    await this.reader?.stop().catch(() => {})
    await Promise.allSettled(this.members.map(async m => m.stop()))
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
    const before = this.config
    await Promise.all(this.members.map(async m => m.stop()))
    this.#keys[i] = await new FileKeyStore(this.#keysDir(i)).rotateBls()
    const generation = /\.r(\d+)$/.exec(this.#lattice)
    this.#lattice = `atelier-testnet.r${generation == null ? 1 : Number(generation[1]) + 1}`
    await this.#writeConfig()
    for (let j = 0; j < this.n; j++) {
      await this.startMember(j)
    }
    await this.reader?.stop()
    this.candidates.clear()
    await this.startFollower()
    return { before, after: this.config }
  }
}
