/**
 * The testnet's page: every member's own status stream (members are separate processes, each with its
 * status endpoint), merged, and the proposer's view beside it. Member i's row in the committee is what
 * member i says of itself, marked unreachable while its stream is down; a slot merges what the members
 * say of it (the sealer's latency, the opener) with what the proposer saw (the follower verified the
 * candidate; the chain took it, or a fallback); the counters are the committee's sums. A stream that
 * drops is reopened each second, at the member's current port (a restart moves it).
 *
 * Owns TestnetStatus.
 */
import { leaderFor } from '../../machine/index.ts'
import { StatusBook } from './status-book.ts'
import { serveStatus } from './status-server.ts'
import type { StatusServer } from './status-server.ts'
import type { ChainRow, Counters, MemberRow, SlotRow, StatusSnapshot } from './status-types.ts'

const RECONNECT_MS = 1000

export interface TestnetStatusOptions {
  members: number
  /** member i's status port now (undefined while it is down) */
  statusPort(i: number): number | undefined
}

/** What the proposer saw of a slot. */
export interface ProposedView {
  slot: number
  from: 'committee' | 'fallback'
  /** the candidate the follower verified (undefined for a fallback) */
  verified: boolean
}

interface MemberView {
  self?: MemberRow
  counters: Counters
  chain?: ChainRow
  connected: boolean
}

export class TestnetStatus {
  readonly book = new StatusBook('testnet')
  readonly #o: TestnetStatusOptions
  readonly #views: MemberView[]
  readonly #aborts: AbortController[] = []
  #stopped = false

  constructor (o: TestnetStatusOptions) {
    this.#o = o
    this.#views = Array.from({ length: o.members }, () => ({ counters: {}, connected: false }))
    for (let i = 0; i < o.members; i++) { void this.#follow(i) }
    this.#publishCommittee()
  }

  /** The proposer put a block on chain for `slot`: from the committee's candidate or a fallback. */
  proposed (v: ProposedView): void {
    const row = this.book.slot(v.slot)
    this.book.upsertSlot({
      slot: v.slot,
      leader: row?.leader ?? leaderFor(v.slot, this.#o.members),
      outcome: row?.outcome ?? (v.from === 'committee' ? 'sealed' : 'missed'),
      committee: this.#o.members,
      verified: v.from === 'committee' ? v.verified : undefined,
      // the row's hash stays the candidate's: anvil's own hash of the block it mined from it can differ
      // (its state root is not canonical once a storage slot is zeroed: EVM-NOTES)
      onChain: v.from
    })
  }

  async serve (port: number, host?: string): Promise<StatusServer> {
    return serveStatus(this.book, port, host)
  }

  stop (): void {
    this.#stopped = true
    for (const a of this.#aborts) { a.abort() }
  }

  /** Keeps member i's stream open for as long as the testnet runs. */
  async #follow (i: number): Promise<void> {
    while (!this.#stopped) {
      const port = this.#o.statusPort(i)
      if (port != null) {
        const abort = new AbortController()
        this.#aborts[i] = abort
        try {
          const res = await fetch(`http://127.0.0.1:${port}/events`, { signal: abort.signal })
          if (res.body != null) { await this.#read(i, res.body) }
        } catch {
          // down or restarting: marked unreachable below, retried
        }
      }
      this.#views[i].connected = false
      this.#publishCommittee()
      if (this.#stopped) { return }
      await new Promise(resolve => setTimeout(resolve, RECONNECT_MS).unref())
    }
  }

  async #read (i: number, body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder()
    let buffer = ''
    for await (const chunk of body) {
      buffer += decoder.decode(chunk, { stream: true })
      let end: number
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const message = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const event = /^event: (.+)$/m.exec(message)?.[1]
        const data = /^data: (.+)$/m.exec(message)?.[1]
        if (event != null && data != null) { this.#apply(i, event, JSON.parse(data)) }
      }
    }
  }

  #apply (i: number, event: string, data: unknown): void {
    const view = this.#views[i]
    if (event === 'snapshot') {
      const s = data as StatusSnapshot
      view.connected = true
      view.self = s.committee.find(m => m.index === i)
      view.counters = s.counters
      view.chain = s.chain
      for (const row of s.slots) { this.#slot(row) }
    } else if (event === 'slot') {
      this.#slot(data as SlotRow)
    } else if (event === 'committee') {
      view.self = (data as MemberRow[]).find(m => m.index === i)
    } else if (event === 'counters') {
      view.counters = data as Counters
    } else if (event === 'chain') {
      view.chain = data as ChainRow
    }
    this.#publishCommittee()
    this.#publishCounters()
    this.#publishChain()
  }

  /** What a member says of a slot, merged with what is known: its own timings only from its sealer. */
  #slot (row: SlotRow): void {
    const known = this.book.slot(row.slot)
    const keepTimings = known?.sealMs != null && row.sealMs == null
    this.book.upsertSlot({
      ...row,
      ...(keepTimings ? { sealMs: known.sealMs, simulationMs: known.simulationMs } : {}),
      // the proposer's view is the testnet's own, not a member's
      verified: known?.verified,
      onChain: known?.onChain,
      outcome: known?.outcome === 'sealed' ? 'sealed' : row.outcome
    })
  }

  #publishCommittee (): void {
    this.book.setCommittee(this.#views.map((v, index) => ({
      index,
      connections: { private: 0, public: 0 },
      roles: {},
      ...v.self,
      reachable: v.connected
    })))
  }

  #publishCounters (): void {
    const sum: Counters = {}
    for (const v of this.#views) {
      for (const [k, n] of Object.entries(v.counters)) { sum[k] = (sum[k] ?? 0) + n }
    }
    this.book.setCounters(sum)
  }

  #publishChain (): void {
    const chains = this.#views.filter(v => v.connected && v.chain != null).map(v => v.chain as ChainRow)
    if (chains.length === 0) { return }
    const newest = chains.reduce((a, b) => (b.headNumber ?? -1) > (a.headNumber ?? -1) ? b : a)
    this.book.setChain({ headNumber: newest.headNumber, headHash: newest.headHash, slotNow: Math.max(...chains.map(c => c.slotNow)), leader: leaderFor(Math.max(...chains.map(c => c.slotNow)), this.#o.members) })
  }
}
