/**
 * One member's status, from the member's own state (the same the metrics come from): its sealed and
 * missed slots as they happen, and once a second the committee as this member sees it (roster
 * announcements, connections and admitted roles per plane), the chain (head, slot now, who leads it)
 * and the counters an operator must notice. A slot's block is marked on chain (or replaced by a
 * fallback) when this member's head reaches its height.
 *
 * Owns MemberStatus.
 */
import { leaderFor } from '../../machine/index.ts'
import { toHex } from '../../proto/index.ts'
import { StatusBook } from './status-book.ts'
import { serveStatus } from './status-server.ts'
import type { StatusServer } from './status-server.ts'
import type { Counters, MemberRow } from './status-types.ts'
import type { MemberNode } from '../member/index.ts'
import type { SealedEvent } from '../member/sealed-candidates.ts'
import type { Counter } from 'prom-client'

const REFRESH_MS = 1000

/** A counter's total, and its totals per value of `label`. */
async function totals (c: Counter<string>, key: string, label?: string): Promise<Counters> {
  const out: Counters = { [key]: 0 }
  for (const v of (await c.get()).values) {
    out[key] += v.value
    const by = label != null ? v.labels[label] : undefined
    if (by != null) { out[`${key}:${String(by)}`] = (out[`${key}:${String(by)}`] ?? 0) + v.value }
  }
  return out
}

export class MemberStatus {
  readonly book: StatusBook
  readonly #node: MemberNode
  readonly #timer: NodeJS.Timeout
  /** block number → slot of the sealed blocks not yet judged against the chain */
  readonly #pending = new Map<number, number>()
  readonly #off: Array<() => void> = []

  constructor (node: MemberNode) {
    this.#node = node
    this.book = new StatusBook('member', node.index)
    const onSealed = (e: Event): void => { this.#sealed((e as CustomEvent<SealedEvent>).detail) }
    const onMissed = (e: Event): void => { this.#missed((e as CustomEvent<number>).detail) }
    node.addEventListener('sealed', onSealed)
    node.addEventListener('missed', onMissed)
    this.#off.push(() => { node.removeEventListener('sealed', onSealed) }, () => { node.removeEventListener('missed', onMissed) })
    this.#timer = setInterval(() => { void this.refresh() }, REFRESH_MS)
    this.#timer.unref()
  }

  #sealed ({ candidate: c, latencyMs, simulationMs, opener }: SealedEvent): void {
    const n = this.#node.config.committee.length
    const number = Number(c.header.number)
    this.book.upsertSlot({
      slot: c.slot,
      leader: leaderFor(c.slot, n),
      opener,
      outcome: 'sealed',
      txs: c.body.length,
      gas: String(c.header.gasUsed),
      valueWei: String(c.blockValue),
      agreement: c.committeeRoster.length,
      committee: n,
      sealMs: latencyMs != null ? Math.round(latencyMs) : undefined,
      simulationMs: simulationMs != null ? Math.round(simulationMs) : undefined,
      blockHash: `0x${toHex(c.header.blockHash)}`
    })
    this.#pending.set(number, c.slot)
  }

  #missed (slot: number): void {
    const n = this.#node.config.committee.length
    this.book.upsertSlot({ slot, leader: leaderFor(slot, n), outcome: 'missed', committee: n })
  }

  /** Reads the committee, the chain and the counters again (once a second, and on demand). */
  async refresh (): Promise<void> {
    const node = this.#node
    const n = node.config.committee.length
    const head = node.head
    if (head != null) { this.#judge(Number(BigInt(head.number)), head.hash.toLowerCase()) }
    const slotNow = node.beacon?.clock.current() ?? 0
    const leader = leaderFor(slotNow, n)
    this.book.setChain({
      headNumber: head != null ? Number(BigInt(head.number)) : undefined,
      headHash: head?.hash,
      slotNow,
      leader,
      rank: (node.index - leader + n) % n
    })
    this.book.setCommittee(this.#committee())
    const m = node.metrics
    this.book.setCounters({
      divergence: (await totals(m.simulationDivergence, 'divergence')).divergence,
      ...await totals(m.equivocations, 'equivocations', 'kind'),
      missedSlots: (await totals(m.slotsMissed, 'missedSlots')).missedSlots,
      ...await totals(m.rejections, 'admissionRejections', 'reason'),
      ...await totals(m.connectionRefusals, 'connectionRefusals', 'reason'),
      ...await totals(m.ingestionRefusals, 'ingestionRefusals', 'code')
    })
  }

  /** The chain reached `number`: each sealed block at or below it is the chain's, or was replaced. */
  #judge (number: number, hash: string): void {
    for (const [height, slot] of [...this.#pending]) {
      if (height > number) { continue }
      this.#pending.delete(height)
      if (height === number) {
        const row = this.book.slot(slot)
        this.book.upsertSlot({ ...(row as NonNullable<typeof row>), onChain: row?.blockHash === hash ? 'committee' : 'fallback' })
      }
      // below the head: judged when it was the head, or never seen as one (this member started later)
    }
  }

  #committee (): MemberRow[] {
    const node = this.#node
    const planes = { private: node.privatePlane, public: node.publicPlane }
    const rows: MemberRow[] = []
    for (let index = 0; index < node.config.committee.length; index++) {
      const entry = node.roster?.entry(index)
      const peers = { private: entry?.privatePeerId, public: entry?.publicPeerId }
      const connections = { private: 0, public: 0 }
      const roles: Record<string, number> = {}
      if (index === node.index) {
        // this member: its planes' connections, and who they are
        for (const [name, plane] of Object.entries(planes) as Array<['private' | 'public', typeof planes.private]>) {
          const conns = plane?.node.getConnections() ?? []
          connections[name] = conns.length
          for (const c of conns) {
            const role = plane.registry.roleOf(c.remotePeer) ?? 'unadmitted'
            roles[role] = (roles[role] ?? 0) + 1
          }
        }
      } else {
        for (const [name, plane] of Object.entries(planes) as Array<['private' | 'public', typeof planes.private]>) {
          const peer = peers[name]
          connections[name] = peer == null ? 0 : (plane?.node.getConnections().filter(c => c.remotePeer.toString() === peer).length ?? 0)
        }
      }
      rows.push({
        index,
        privatePeerId: peers.private,
        publicPeerId: peers.public,
        connections,
        roles,
        lastAnnounce: index === node.index ? node.roster?.lastPublished ?? entry?.seq : entry?.seq,
        reachable: index === node.index || connections.private > 0
      })
    }
    return rows
  }

  /** Serves this member's page on host:port. */
  async serve (port: number, host?: string): Promise<StatusServer> {
    await this.refresh()
    return serveStatus(this.book, port, host)
  }

  stop (): void {
    clearInterval(this.#timer)
    for (const off of this.#off.splice(0)) { off() }
  }
}
