/**
 * Roster gossip on the private plane: every member announces, signed with its BLS key, its roster
 * index, key, the peer ids and addresses of both planes and its config fingerprint — at start, on
 * every new connection (directly, over `/atelier/roster/1.0.0`, so a member whose fingerprint differs
 * and therefore shares no topic with us is still seen), and periodically on the roster topic.
 * Members use it to map peer ids to roster indices, to find each other after churn, and to flag
 * config mismatches.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { blsSign, encodeMessage, rosterSigningRoot } from '../proto/index.ts'
import { validateRosterAnnounce } from '../topics/index.ts'
import { messageStream } from './message-stream.ts'
import type { Plane } from './plane.ts'
import type { RosterAnnounceValue } from '../proto/index.ts'
import type { RosterView } from '../topics/index.ts'
import type { Connection, Stream } from '@libp2p/interface'

export const ROSTER_PROTOCOL = '/atelier/roster/1.0.0'

export interface RosterEntry {
  memberIndex: number
  privatePeerId: string
  privateAddrs: string[]
  publicPeerId: string
  publicAddrs: string[]
  seq: number
}

export interface RosterServiceOptions {
  privatePlane: Plane
  publicPlane: Plane
  topic: string
  roster: Uint8Array[]
  fingerprint: Uint8Array
  memberIndex: number
  blsSecretKey: Uint8Array
  intervalMs: number
  onMismatch?(reason: string, announce: RosterAnnounceValue): void
  onEntry?(entry: RosterEntry, isNew: boolean): void
  onInvalid?(reason: string): void
}

const text = new TextEncoder()
const untext = new TextDecoder()

export class RosterService implements RosterView {
  readonly #o: RosterServiceOptions
  readonly #byIndex = new Map<number, RosterEntry>()
  readonly #byPeer = new Map<string, number>()
  #timer: NodeJS.Timeout | undefined
  /** ms since the epoch of this member's last announcement on the roster topic */
  lastPublished?: number

  constructor (options: RosterServiceOptions) {
    this.#o = options
  }

  indexOf (peerId: string): number | undefined {
    return this.#byPeer.get(peerId)
  }

  entries (): RosterEntry[] {
    return [...this.#byIndex.values()]
  }

  entry (index: number): RosterEntry | undefined {
    return this.#byIndex.get(index)
  }

  async start (): Promise<void> {
    const plane = this.#o.privatePlane
    // we know ourselves
    this.#record(this.announcement())
    plane.validate(this.#o.topic, (_source, msg) => {
      const check = validateRosterAnnounce(msg.data, { roster: this.#o.roster, fingerprint: this.#o.fingerprint, origin: msg.type === 'signed' ? msg.from.toString() : undefined })
      if (check.verdict !== 'accept' || check.value == null) {
        this.#o.onInvalid?.(check.reason)
        return check.verdict
      }
      if (check.mismatch != null) {
        this.#o.onMismatch?.(check.mismatch, check.value)
        return 'ignore'
      }
      this.#record(check.value)
      return 'accept'
    })
    plane.pubsub.subscribe(this.#o.topic)
    await plane.node.handle(ROSTER_PROTOCOL, async (stream: Stream, connection: Connection) => { await this.#receiveDirect(stream, connection) })
    plane.node.addEventListener('connection:open', evt => { void this.#sendDirect(evt.detail) })
    this.#timer = setInterval(() => { void this.publish() }, this.#o.intervalMs)
    this.#timer.unref()
    await this.publish()
  }

  stop (): void {
    clearInterval(this.#timer)
  }

  announcement (): RosterAnnounceValue {
    const o = this.#o
    const fields = {
      memberIndex: o.memberIndex,
      blsPublicKey: o.roster[o.memberIndex],
      privatePeerId: text.encode(o.privatePlane.peerId.toString()),
      privateAddrs: o.privatePlane.addresses().slice(0, 8).map(a => a.bytes),
      publicPeerId: text.encode(o.publicPlane.peerId.toString()),
      publicAddrs: o.publicPlane.addresses().slice(0, 8).map(a => a.bytes),
      fingerprint: o.fingerprint,
      seq: Date.now()
    }
    return { ...fields, signature: blsSign(o.blsSecretKey, rosterSigningRoot(fields, o.fingerprint)) }
  }

  async publish (): Promise<void> {
    this.lastPublished = Date.now()
    await this.#o.privatePlane.pubsub.publish(this.#o.topic, encodeMessage('RosterAnnounce', this.announcement())).catch(() => {})
  }

  #record (a: RosterAnnounceValue): void {
    const previous = this.#byIndex.get(a.memberIndex)
    if (previous != null && previous.seq >= a.seq) {
      return
    }
    const entry: RosterEntry = {
      memberIndex: a.memberIndex,
      privatePeerId: untext.decode(a.privatePeerId),
      privateAddrs: a.privateAddrs.map(b => multiaddr(b).toString()),
      publicPeerId: untext.decode(a.publicPeerId),
      publicAddrs: a.publicAddrs.map(b => multiaddr(b).toString()),
      seq: a.seq
    }
    if (previous != null) {
      this.#byPeer.delete(previous.privatePeerId)
    }
    this.#byIndex.set(a.memberIndex, entry)
    this.#byPeer.set(entry.privatePeerId, a.memberIndex)
    this.#o.onEntry?.(entry, previous == null || previous.privatePeerId !== entry.privatePeerId)
  }

  async #sendDirect (connection: Connection): Promise<void> {
    try {
      const stream = await connection.newStream(ROSTER_PROTOCOL, { signal: AbortSignal.timeout(5000) })
      await messageStream(stream).write(encodeMessage('RosterAnnounce', this.announcement()))
      await stream.close()
    } catch {
      // the periodic gossip announcement covers a failed direct one
    }
  }

  async #receiveDirect (stream: Stream, connection: Connection): Promise<void> {
    try {
      const bytes = (await messageStream(stream).read({ signal: AbortSignal.timeout(5000) })).subarray()
      const check = validateRosterAnnounce(bytes, { roster: this.#o.roster, fingerprint: this.#o.fingerprint, origin: connection.remotePeer.toString() })
      if (check.value != null && check.mismatch != null) {
        this.#o.onMismatch?.(check.mismatch, check.value)
      } else if (check.verdict === 'accept' && check.value != null) {
        this.#record(check.value)
      } else {
        this.#o.onInvalid?.(check.reason)
      }
      await stream.close()
    } catch (err) {
      stream.abort(err as Error)
    }
  }
}
