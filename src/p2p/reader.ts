/**
 * The light subscriber: joins the public plane with a read ticket, follows the candidates topic,
 * backfills gaps through sync, checks every candidate with `verify` against the pinned roster, and
 * yields them in slot order. Slots with no candidate (a leader that never opened them) are skipped.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { LRUCache } from 'lru-cache'
import { explainVerify } from '../config/index.ts'
import { candidateSigningRoot, toHex } from '../proto/index.ts'
import { gossipTopicNames, validateCandidate } from '../topics/index.ts'
import { requestBlobs } from './blobs-stream.ts'
import { TicketEvidenceSource } from './evidence-source.ts'
import { Plane } from './plane.ts'
import { policyFromConfig } from './policy.ts'
import { requestCandidates } from './streams.ts'
import { syncCandidates } from './sync-pager.ts'
import type { HandshakeEvent } from './attested-noise.ts'
import type { Config } from '../config/index.ts'
import type { BlobsBundleValue, CandidateValue } from '../proto/index.ts'
import type { PeerId, PrivateKey } from '@libp2p/interface'

export interface ReaderOptions {
  config: Config
  /** the read ticket (JWT) for this reader's peer id */
  ticket: string | ((peerId: string) => Promise<string>)
  /** member public-plane multiaddrs (with /p2p/ peer ids) */
  bootstrap: string[]
  privateKey?: PrivateKey
  /** first slot to yield (default 0: everything the members still hold) */
  fromSlot?: number
  /** verified candidates kept for `get` and duplicate checks (default READER_KEPT, the newest slots) */
  keep?: number
  listen?: string[]
  signal?: AbortSignal
  /** every candidate dropped, with why */
  onInvalid?(reason: string, slot?: number): void
  onHandshake?(event: HandshakeEvent): void
}

/** verified candidates a reader keeps for `get` and duplicate checks, newest slots first kept */
export const READER_KEPT = 1024

export class Reader implements AsyncIterable<CandidateValue> {
  readonly plane: Plane
  readonly #o: ReaderOptions
  /** verified candidates by slot, bounded: the oldest slots go first */
  readonly #kept: LRUCache<number, { candidate: CandidateValue, root: Uint8Array }>
  /** verified, at or after the cursor, not yet released (so only these are ever sorted) */
  readonly #pending = new Map<number, CandidateValue>()
  readonly #ready: CandidateValue[] = []
  readonly #waiters: Array<() => void> = []
  readonly #topic: string
  #next: number
  #latest: CandidateValue | undefined
  #backfilling: Promise<void> | undefined
  #closed = false

  private constructor (plane: Plane, options: ReaderOptions, topic: string) {
    this.plane = plane
    this.#o = options
    this.#next = options.fromSlot ?? 0
    this.#topic = topic
    this.#kept = new LRUCache({ max: options.keep ?? READER_KEPT })
  }

  static async start (options: ReaderOptions): Promise<Reader> {
    const privateKey = options.privateKey ?? await generateKeyPair('Ed25519')
    const ticket = typeof options.ticket === 'string' ? options.ticket : await options.ticket(peerIdFromPrivateKey(privateKey).toString())
    const topic = gossipTopicNames(options.config.lattice, options.config.signature(), options.config.rulesTag()).candidates
    const plane = await Plane.create({
      name: 'reader',
      privateKey,
      listen: options.listen ?? [],
      policy: policyFromConfig(options.config, ['member']),
      evidence: new TicketEvidenceSource(ticket),
      topics: [topic],
      upgradeTimeoutMs: options.config.tuning.upgradeTimeoutMs,
      onHandshake: options.onHandshake
    })
    const reader = new Reader(plane, options, topic)
    reader.#listen()
    options.signal?.addEventListener('abort', () => { void reader.stop() }, { once: true })
    const dials = await Promise.allSettled(options.bootstrap.map(async addr => plane.connect(addr)))
    dials.forEach((d, i) => {
      if (d.status === 'rejected') {
        options.onInvalid?.(`cannot reach ${options.bootstrap[i]}: ${(d.reason as Error).message}; retrying`)
        plane.keepConnected(options.bootstrap[i])
      }
    })
    await reader.#backfill()
    return reader
  }

  /** The newest verified candidate seen so far. */
  latest (): CandidateValue | undefined {
    return this.#latest
  }

  /**
   * The bundle of these versioned hashes from the first member that holds them all, as it sent it:
   * the caller checks it by KZG against the candidate. Throws naming every member's refusal.
   */
  async blobs (versionedHashes: Uint8Array[]): Promise<BlobsBundleValue> {
    const refusals: string[] = []
    for (const peer of this.plane.node.getPeers().filter(p => this.plane.registry.roleOf(p) === 'member')) {
      try {
        return await requestBlobs(this.plane, peer, versionedHashes)
      } catch (err) {
        refusals.push((err as Error).message)
      }
    }
    throw new Error(`no member served the blobs: ${refusals.length === 0 ? 'no member connected' : refusals.join('; ')}`)
  }

  /** A verified candidate by slot, if this reader still holds it (the newest `keep` slots). */
  get (slot: number): CandidateValue | undefined {
    return this.#kept.peek(slot)?.candidate
  }

  async * [Symbol.asyncIterator] (): AsyncGenerator<CandidateValue> {
    for (;;) {
      const next = this.#ready.shift()
      if (next != null) {
        yield next
        continue
      }
      if (this.#closed) {
        return
      }
      await new Promise<void>(resolve => this.#waiters.push(resolve))
    }
  }

  async stop (): Promise<void> {
    if (this.#closed) {
      return
    }
    this.#closed = true
    this.#wake()
    await this.plane.stop()
  }

  #listen (): void {
    const { config } = this.#o
    this.plane.route(this.#topic, (source, msg) => {
      const check = validateCandidate(msg.data, {
        roster: config.roster,
        domainId: config.root().bytes,
        sourceRole: this.plane.registry.roleOf(source),
        originated: msg.type === 'signed' && msg.from.equals(source),
        keptRoot: slot => this.#kept.peek(slot)?.root
      })
      if (check.verdict === 'reject') {
        this.#o.onInvalid?.(check.reason)
      }
      return check
    }, candidate => { void this.#arrived(candidate) })
  }

  async #arrived (candidate: CandidateValue): Promise<void> {
    if (candidate.slot > this.#next) {
      await this.#backfill()
    }
    // the topic validator has verified it already
    this.#keep(candidate, true)
    this.#flush(candidate.slot)
  }

  /**
   * Fetches every candidate from the cursor on from the connected members, page by page. A page that
   * leaves a slot in its range without a candidate is not taken at its word (the member may have been
   * away for it): that range is asked of a second member before the page is released.
   */
  async #backfill (): Promise<void> {
    this.#backfilling ??= (async () => {
      const members = (): PeerId[] => this.plane.node.getPeers().filter(p => this.plane.registry.roleOf(p) === 'member')
      try {
        await syncCandidates(this.plane, this.#next, {
          peers: members,
          maxPages: 10_000,
          stopped: () => this.#closed,
          onError: (peer, err) => { this.#o.onInvalid?.(`sync from ${peer.toString()} failed: ${err.message}`) }
        }, async page => {
          for (const c of page) {
            this.#keep(c)
          }
          const last = (page.at(-1) as CandidateValue).slot
          const gap = Array.from({ length: last - this.#next }, (_, k) => this.#next + k).find(s => !this.#kept.has(s))
          const second = members()[1]
          if (gap != null && second != null) {
            for (const c of await requestCandidates(this.plane, second, gap, last).catch(() => [])) { this.#keep(c) }
          }
          this.#flush(last)
        })
      } finally {
        this.#backfilling = undefined
      }
    })()
    return this.#backfilling
  }

  #keep (candidate: CandidateValue, verified = false): void {
    // below the cursor a candidate can no longer be yielded: nothing to keep it for
    if (candidate.slot < this.#next || this.#kept.has(candidate.slot)) {
      return
    }
    const verdict = verified ? { valid: true as const } : explainVerify(candidate, this.#o.config)
    if (!verdict.valid) {
      this.#o.onInvalid?.(`candidate for slot ${candidate.slot} dropped: ${verdict.reason}`, candidate.slot)
      return
    }
    this.#kept.set(candidate.slot, { candidate, root: candidateSigningRoot(candidate, this.#o.config.root().bytes) })
    this.#pending.set(candidate.slot, candidate)
  }

  /** Releases pending candidates up to `through` in slot order; slots without one are skipped. */
  #flush (through: number): void {
    const slots = [...this.#pending.keys()].filter(s => s <= through).sort((a, b) => a - b)
    for (const slot of slots) {
      const c = this.#pending.get(slot) as CandidateValue
      this.#pending.delete(slot)
      this.#ready.push(c)
      if (this.#latest == null || c.slot > this.#latest.slot) {
        this.#latest = c
      }
    }
    if (through >= this.#next) {
      this.#next = through + 1
    }
    this.#wake()
  }

  #wake (): void {
    for (const w of this.#waiters.splice(0)) {
      w()
    }
  }
}

/** One line's worth of a verified candidate: what `atelier follow` prints. */
export function candidateSummary (c: CandidateValue): { slot: number, number: number, blockHash: string, txs: number, gasUsed: number, blockValueWei: string, signers: number } {
  return {
    slot: c.slot,
    number: c.header.number,
    blockHash: `0x${toHex(c.header.blockHash)}`,
    txs: c.body.length,
    gasUsed: c.header.gasUsed,
    blockValueWei: c.blockValue.toString(),
    signers: c.committeeRoster.length
  }
}
