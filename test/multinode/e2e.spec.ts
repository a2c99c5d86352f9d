/**
 * End-to-end: members as separate `atelier node` processes on a real anvil, with the testnet's
 * co-builder, load generator and follower. Each scenario runs its own testnet.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { keccak_256 as keccak256 } from '@noble/hashes/sha3.js'
import { expect } from 'aegir/chai'
import { explainVerify, verify } from '../../src/config/index.ts'
import { blobsBundleMismatch } from '../../src/core/index.ts'
import { leaderFor } from '../../src/machine/index.ts'
import { NodeStore, Testnet } from '../../src/node/index.ts'
import { MemberEvidenceSource, Plane, policyFromConfig, Reader } from '../../src/p2p/index.ts'
import { bundleShapeMismatch, candidateVersionedHashes, decodeMessage, equalBytes, fromHex, toHex } from '../../src/proto/index.ts'
import { TestTdProvider } from '../../src/testing/index.ts'
import { Anvil } from '../fixtures/anvil.ts'
import { DIVERGENT_MEMBER } from '../fixtures/divergent-member.ts'
import { EQUIVOCATING_MEMBER } from '../fixtures/equivocating-member.ts'
import { scrape } from '../fixtures/metrics.ts'
import { until } from '../fixtures/network.ts'
import type { RpcBlock } from '../../src/chain/index.ts'
import type { Config } from '../../src/config/index.ts'
import type { ProposedBlock, TestnetOptions } from '../../src/node/index.ts'
import type { CandidateValue } from '../../src/proto/index.ts'

const hex = (b: Uint8Array): string => toHex(b)
const execFileAsync = promisify(execFile)

async function withTestnet (options: TestnetOptions, fn: (net: Testnet) => Promise<void>, inspect?: (out: string) => Promise<void>): Promise<Map<number, Map<number, string>>> {
  const out = await mkdtemp(join(tmpdir(), 'atelier-e2e-'))
  const net = await Testnet.start({ blockTime: 1, txsPerSlot: 6, ...options, out })
  try {
    await fn(net)
  } finally {
    await net.stop()
  }
  // with every process gone, read each member's store: slot → encoded candidate
  const stores = new Map<number, Map<number, string>>()
  try {
    for (let i = 0; i < net.n; i++) {
      const store = await NodeStore.open(join(out, `member-${i}`, 'data', 'db'))
      const m = new Map<number, string>()
      for (const r of await store.candidateRange(0, Number.MAX_SAFE_INTEGER, 100_000)) { m.set(r.slot, hex(r.bytes)) }
      await store.close()
      stores.set(i, m)
    }
    await inspect?.(out)
  } finally {
    // ATELIER_KEEP_E2E=1 keeps the run's directory (logs, stores) for a post-mortem
    if (process.env.ATELIER_KEEP_E2E == null) { await rm(out, { recursive: true, force: true }) } else { process.stderr.write(`kept ${out}\n`) }
  }
  return stores
}

/** A member's log (JSON lines; anything else, such as a crash trace, is skipped). */
type LogLine = Record<string, unknown> & { event?: string }
async function logLines (path: string): Promise<LogLine[]> {
  const lines: LogLine[] = []
  for (const text of (await readFile(path, 'utf8')).split('\n')) {
    try { lines.push(JSON.parse(text) as LogLine) } catch { /* not a log line */ }
  }
  return lines
}

/** The candidate for `slot` as the follower verified it or, failing that, as a member stored it. */
function candidateAt (follower: Map<number, CandidateValue>, stores: Map<number, Map<number, string>>, slot: number): CandidateValue | undefined {
  const stored = [...stores.values()].map(m => m.get(slot)).find(b => b != null)
  return follower.get(slot) ?? (stored == null ? undefined : decodeMessage('Candidate', fromHex(stored)))
}

/**
 * The load's transactions grouped by sender and nonce (`sender:nonce` → hashes): a group of more than
 * one is a replacement, of which exactly one can be mined.
 */
function nonceGroups (slotOf: Map<string, string>): Map<string, string[]> {
  const groups = new Map<string, string[]>()
  for (const [hash, key] of slotOf) { groups.set(key, [...(groups.get(key) ?? []), hash]) }
  return groups
}

/** The groups none of whose transactions is in these candidates. */
function groupsNotIncluded (candidates: Iterable<CandidateValue>, groups: Map<string, string[]>): string[] {
  const seen = new Set([...candidates].flatMap(c => c.body.map(raw => `0x${hex(keccak256(raw))}`)))
  return [...groups].filter(([, hashes]) => !hashes.some(h => seen.has(h))).map(([key]) => key)
}

/** Slots after the kill that the leader-crash test accounts for, one by one. */
const CRASH_WINDOW = 10

interface CrashRun {
  /** the slot the victim led and had opened when it was killed */
  killedAt: number
  victim: number
  killedAfterMs: number
  /** every slot with a candidate: at the follower or in any member's store */
  sealed: Set<number>
  /** slot → the members whose log says they sealed it themselves */
  sealedBy: Map<number, number[]>
  /** member → `slot:index` of every simulation its log says it recorded */
  recorded: Map<number, Set<string>>
  /** the victim's `slot-opened` log line for `killedAt` */
  opened?: LogLine
  victimSlot?: CandidateValue
  config: Config
}

/** What the leader-crash test holds a run to (4 members); returns what became of the victim's slot. */
function expectCrashOutcome (run: CrashRun): string {
  const { killedAt, victim, sealed } = run
  const window = Array.from({ length: CRASH_WINDOW }, (_, k) => killedAt + 1 + k)
  // the survivors keep sealing, and the dead member's own slots are opened by the next member by rank
  // (takeover of unopened slots): at most one slot is lost to the kill, the one it was killed in
  // included
  const missed = window.filter(s => !sealed.has(s))
  const lostAtKill = run.victimSlot == null ? 1 : 0
  expect(missed.length + lostAtKill, `slots lost to the kill at slot ${killedAt}: ${[...(lostAtKill > 0 ? [killedAt] : []), ...missed].join(', ')}`).to.be.at.most(1)
  const victimSlots = window.filter(s => leaderFor(s, 4) === victim)
  expect(victimSlots.length).to.be.at.least(2)
  for (const s of victimSlots.filter(s => sealed.has(s))) {
    expect(run.sealedBy.get(s)?.includes(victim) ?? false, `slot ${s} sealed by the dead member`).to.equal(false)
  }

  // the slot the victim opened before it died: sealed by a survivor's takeover, or lost
  expect(run.opened, `member ${victim} logged opening slot ${killedAt}`).to.not.equal(undefined)
  const what = `slot ${killedAt}: member ${victim} killed ${run.killedAfterMs} ms after opening it`
  if (run.victimSlot == null) {
    // lost only when the survivors never had the slot's complete inputs: the victim publishes its
    // OpenSlot before it logs it, the hints it announced (AcceptHint) only after, so the kill can cut
    // those off. With no hints announced the survivors held complete inputs, and must have taken over.
    expect(run.opened?.hints, `${what}: lost although its OpenSlot announced no hints (no takeover)`).to.be.greaterThan(0)
    return `${what}; lost (it announced ${String(run.opened?.hints)} hint(s), published only after its OpenSlot)`
  }
  // killed before it sealed (else this run did not crash a leader mid-slot), sealed by exactly one
  // survivor: a takeover, the victim being the leader
  const sealers = run.sealedBy.get(killedAt) ?? []
  expect(sealers, `${what}: the members that sealed it`).to.have.length(1)
  expect(sealers[0], `${what}: sealed by the victim itself`).to.not.equal(victim)
  expect(explainVerify(run.victimSlot, run.config)).to.deep.equal({ valid: true })
  // signed by a strict majority the sealer belongs to: the three survivors, or the victim with two of
  // them if its simulation was out before the kill, which the sealer then recorded (measured: 2 runs
  // in 13, killed 15–19 ms after opening)
  const signers = run.victimSlot.committeeRoster.map(k => run.config.roster.findIndex(r => equalBytes(r, k))).sort((a, b) => a - b)
  expect(signers, `${what}: its signers include the sealer`).to.include(sealers[0])
  if (signers.includes(victim)) {
    expect(run.recorded.get(sealers[0])?.has(`${killedAt}:${victim}`), `${what}: signed by the victim, whose simulation its sealer, member ${sealers[0]}, never recorded`).to.equal(true)
  }
  return `${what}; sealed by member ${sealers[0]}'s takeover, signed by ${signers.join(', ')}${signers.includes(victim) ? ' (the victim\'s simulation was out)' : ''}`
}

/** No slot has two different candidates anywhere (any member's store, the follower). */
function expectOneCandidatePerSlot (stores: Map<number, Map<number, string>>, follower: Map<number, CandidateValue>): void {
  // the block is what must be one per slot: two sealers racing (the opener, a takeover) can aggregate
  // different signer sets over the same block, and each member keeps the seal it applied first
  const blockOf = (bytes: string): string => hex(decodeMessage('Candidate', fromHex(bytes)).header.blockHash)
  const bySlot = new Map<number, Set<string>>()
  for (const m of stores.values()) { for (const [slot, bytes] of m) { bySlot.set(slot, (bySlot.get(slot) ?? new Set()).add(blockOf(bytes))) } }
  for (const [slot, c] of follower) { bySlot.set(slot, (bySlot.get(slot) ?? new Set()).add(hex(c.header.blockHash))) }
  for (const [slot, set] of bySlot) { expect(set.size, `slot ${slot}: different blocks`).to.equal(1) }
}

/** The longest run of consecutive blocks made from the committee's candidates. */
function longestCommitteeRun (blocks: ProposedBlock[]): number {
  let run = 0
  let best = 0
  for (const b of blocks) {
    run = b.from === 'committee' ? run + 1 : 0
    best = Math.max(best, run)
  }
  return best
}

/**
 * The chain ran on the committee's blocks: each second-EVM check equal, the last one the head, every
 * pool transaction the load sent on chain exactly once, senders' nonces advancing.
 */
function expectChainRanOnCommittee (blocks: ProposedBlock[], chainBlocks: RpcBlock[], head: RpcBlock | undefined, groups: Map<string, string[]>): void {
  // the chain ran on the committee's blocks: each second-EVM check equal, the last one the head
  const fromCommittee = blocks.filter(b => b.from === 'committee')
  expect(fromCommittee.length).to.be.at.least(15)
  for (const b of fromCommittee) {
    expect(b.verdict?.mismatches, `slot ${b.slot}`).to.deep.equal([])
    expect(b.hash).to.equal(chainBlocks[blocks.indexOf(b)].hash)
    expect(b.candidate?.header.number).to.equal(b.number)
  }
  expect(head?.hash).to.equal(blocks.at(-1)?.hash)
  expect(longestCommitteeRun(blocks), 'consecutive committee blocks').to.be.at.least(15)
  // every pool transaction the load sent is on chain exactly once, and senders' nonces advanced
  const mined = new Map<string, number>()
  for (const blk of chainBlocks) {
    for (const t of blk.transactions as unknown as Array<{ hash: string, from: string, nonce: string }>) {
      mined.set(t.hash, (mined.get(t.hash) ?? 0) + 1)
    }
  }
  // one transaction of each sender and nonce (a replacement's rival can never be)
  for (const [key, hashes] of groups) {
    expect(hashes.reduce((n, h) => n + (mined.get(h) ?? 0), 0), `pool transaction ${key} (${hashes.join(', ')}) on chain`).to.equal(1)
  }
  const nonces = new Map<string, Set<string>>()
  for (const blk of chainBlocks) {
    for (const t of blk.transactions as unknown as Array<{ from: string, nonce: string }>) { nonces.set(t.from, (nonces.get(t.from) ?? new Set()).add(t.nonce)) }
  }
  expect(Math.max(...[...nonces.values()].map(n => n.size)), 'transactions mined from one sender').to.be.at.least(3)
}

describe('e2e: the committee as processes', function () {
  this.timeout(300_000)

  it('closed loop, happy path: ≥ 15 consecutive committee blocks on chain, second EVM equal on each, identical everywhere, every valid transaction mined exactly once, nonces advancing; blob transactions proposed with their KZG-checked blobs', async () => {
    let submitted = new Map<string, Uint8Array>()
    let groups = new Map<string, string[]>()
    let bundled = new Map<string, Uint8Array>()
    let follower = new Map<number, CandidateValue>()
    let blocks: ProposedBlock[] = []
    let head: RpcBlock | undefined
    let chainBlocks: RpcBlock[] = []
    let blobTxs = 0
    let blobsVerified = 0
    // 40 accounts: each is reused every few slots, so its nonce advances on chain; a blob transaction
    // each slot, in its network form, to the next member in turn
    const stores = await withTestnet({ members: 4, loadAccounts: 40, blobTxsPerSlot: 1 }, async net => {
      await net.waitForCandidates(15)
      // the load sends one blob transaction a slot: ten of them out before it stops (bounded)
      await until(() => (net.load?.blobTxs.size ?? 0) >= 10, 60_000, 'ten blob transactions sent')
      // stop the load, then let the pool drain: until every transaction sent is in a candidate
      const load = net.stopLoad()
      expect(load).to.not.equal(undefined)
      submitted = load?.submitted ?? submitted
      groups = nonceGroups(load?.slotOf ?? new Map())
      bundled = load?.bundled ?? bundled
      blobTxs = load?.blobTxs.size ?? 0
      await until(() => groupsNotIncluded(net.candidates.values(), groups).length === 0, 60_000, 'every sender and nonce the load used in a verified candidate').catch(err => {
        throw new Error(`${(err as Error).message}: missing ${groupsNotIncluded(net.candidates.values(), groups).join(', ')} of ${groups.size}`)
      })
      // two more slots after the drain, where a transaction sealed a second time would show
      await net.waitForCandidates(net.candidates.size + 2)
      // a fallback on this shared machine breaks a run: wait (bounded) until 15 in a row are on chain
      await until(() => longestCommitteeRun(net.proposer?.blocks ?? []) >= 15, 60_000, '15 consecutive committee blocks')
      follower = new Map(net.candidates)
      for (const c of follower.values()) { expect(verify(c, net.config)).to.equal(true) }
      expect(net.hintsAccepted).to.be.greaterThan(0)
      // the block made from the last proposed candidate is the head (wait for the proposer's next turn)
      await until(() => (net.proposer?.blocks.length ?? 0) > 0 && net.proposer?.blocks.at(-1)?.from === 'committee', 10_000, 'a committee block last')
      const last = net.proposer?.blocks.at(-1) as ProposedBlock
      blocks = [...net.proposer?.blocks ?? []]
      head = await net.anvil.rpc<RpcBlock>('eth_getBlockByNumber', [`0x${last.number.toString(16)}`, true])
      chainBlocks = await Promise.all(blocks.map(async b => net.anvil.rpc<RpcBlock>('eth_getBlockByNumber', [`0x${b.number.toString(16)}`, true])))
      expect(net.proposer?.mismatches, net.failure).to.equal(0)
      blobsVerified = net.proposer?.blobsVerified ?? 0
      expect(net.proposer?.blobsUnavailable, 'candidates left for want of their blobs').to.equal(0)
      // the members' logs: sealers simulated on their own post-state (warm parents) once the loop ran
      expect([...net.sealerWarm.values()].filter(w => w).length, 'slots sealed on a warm parent').to.be.at.least(10)
    })
    expectChainRanOnCommittee(blocks, chainBlocks, head, groups)
    // blob transactions (in `submitted`, so each mined exactly once): proposed with their bundles
    const withBlobs = blocks.filter(b => (b.blobs ?? 0) > 0)
    expect(blobTxs, 'blob transactions sent').to.be.at.least(10)
    expect(withBlobs.length, 'committee blocks with blobs').to.be.at.least(5)
    expect(blobsVerified).to.equal(withBlobs.reduce((n, b) => n + (b.blobs ?? 0), 0))
    for (const b of withBlobs) {
      const hashes = candidateVersionedHashes(b.candidate as CandidateValue)
      expect(bundleShapeMismatch(b.bundle ?? { commitments: [], proofs: [], blobs: [] }, hashes), `slot ${b.slot}`).to.equal(undefined)
      expect(BigInt(chainBlocks[blocks.indexOf(b)].blobGasUsed ?? 0), `slot ${b.slot}: blob gas on chain`).to.equal(BigInt(hashes.length * 131_072))
    }
    // one bundle checked again here, cell proof by cell proof
    expect(blobsBundleMismatch(withBlobs[0].bundle as never, candidateVersionedHashes(withBlobs[0].candidate as CandidateValue))).to.equal(undefined)
    const slots = [...follower.keys()].sort((a, b) => a - b)
    let run = 1
    let best = 1
    for (let i = 1; i < slots.length; i++) {
      run = slots[i] === slots[i - 1] + 1 ? run + 1 : 1
      best = Math.max(best, run)
    }
    expect(best, 'consecutive sealed slots').to.be.at.least(10)
    expectOneCandidatePerSlot(stores, follower)
    // every member holds the same bytes for every slot the follower verified
    for (const slot of slots) {
      const copies = [...stores.values()].map(m => m.get(slot)).filter(b => b != null)
      expect(copies.length, `members holding slot ${slot}`).to.equal(4)
    }
    // once in the candidates that became blocks (a candidate the proposer did not use gives its
    // transactions back to the pool, so they may be in a later one too)
    const counts = new Map<string, number>()
    for (const b of blocks.filter(b => b.from === 'committee')) {
      for (const raw of b.candidate?.body ?? []) {
        const h = `0x${hex(keccak256(raw))}`
        counts.set(h, (counts.get(h) ?? 0) + 1)
      }
    }
    expect(submitted.size).to.be.greaterThan(20)
    for (const [key, hashes] of groups) { expect(hashes.reduce((n, h) => n + (counts.get(h) ?? 0), 0), `pool transaction ${key}`).to.equal(1) }
    for (const h of bundled.keys()) { expect(counts.get(h) ?? 0, `bundle transaction ${h}`).to.be.at.most(1) }
  })

  it('closed loop on the user\'s own anvil (--chain-rpc), a stalled majority: slots without a candidate get the chain\'s own fallback block, and the committee seals the next slot on top of it; --out keeps each slot', async () => {
    let blocks: ProposedBlock[] = []
    let files: string[] = []
    // the user's anvil: automining, FIFO order; the testnet switches it to mining on demand
    const own = await Anvil.start({ order: 'fifo', timestamp: Math.floor(Date.now() / 1000) })
    try {
      await withTestnet({ members: 4, chainRpc: own.url }, async net => {
        await net.waitForCandidates(3)
        // two of four frozen: no strict majority can sign until they thaw
        const frozen = [2, 3]
        try {
          for (const i of frozen) { net.members[i].kill('SIGSTOP') }
          await until(() => (net.proposer?.fallbacks ?? 0) >= 1, 20_000, 'a fallback block')
        } finally {
          for (const i of frozen) { net.members[i].kill('SIGCONT') }
        }
        const onFallback = (): boolean => {
          const b = net.proposer?.blocks ?? []
          return b.some((x, i) => x.from === 'fallback' && b[i + 1]?.from === 'committee')
        }
        await until(onFallback, 30_000, 'a committee block on a fallback block')
        blocks = [...net.proposer?.blocks ?? []]
        expect(net.proposer?.mismatches, net.failure).to.equal(0)
        // the slot on the fallback block sealed: on proven state, or warm where a member's own simulation
        // of the stalled slot came to that very block (nothing included: an empty block, as anvil's
        // fallback is), so the parent's root is one it computed; chain-warm.spec covers the proof path
        const k = blocks.findIndex((x, j) => x.from === 'fallback' && blocks[j + 1]?.from === 'committee')
        await until(() => net.sealerWarm.has(blocks[k + 1].slot), 5000, 'the sealer\'s log line')
        const written = async (): Promise<boolean> => {
          const have = new Set(await readdir(join(net.dir, 'slots')).catch(() => []))
          return blocks.every(b => have.has(`${b.slot}.chain-block.json`) && (b.from === 'fallback' || have.has(`${b.slot}.candidate.ssz`)))
        }
        await until(written, 5000, 'every slot\'s files')
        files = await readdir(join(net.dir, 'slots'))
      })
    } finally {
      await own.stop()
    }
    const i = blocks.findIndex((x, k) => x.from === 'fallback' && blocks[k + 1]?.from === 'committee')
    const after = blocks[i + 1]
    expect(after.candidate?.header.parentHash, 'the next candidate builds on the fallback block').to.deep.equal(fromHex(blocks[i].hash))
    expect(after.verdict?.mismatches).to.deep.equal([])
    expect(blocks[i].number + 1).to.equal(after.number)
    expect(files).to.include.members([`${blocks[i].slot}.chain-block.json`, `${after.slot}.chain-block.json`, `${after.slot}.candidate.json`, `${after.slot}.candidate.ssz`])
    expect(files).to.not.include(`${blocks[i].slot}.candidate.json`)
  })

  it('leader crash: SIGKILL a leader right after it opens its slot; the survivors keep sealing, the dead leader\'s slots are opened by the next member by rank, at most one slot is lost, no slot gets two candidates', async function () {
    let follower = new Map<number, CandidateValue>()
    const pinned: { config?: Config } = {}
    let killedAt = 0
    let victim = -1
    let killedAfterMs = 0
    /** slot → the members whose log says they sealed it themselves (as leader or by takeover) */
    const sealedBy = new Map<number, number[]>()
    const recorded = new Map<number, Set<string>>()
    const victimLog: LogLine[] = []
    const stores = await withTestnet({ members: 4 }, async net => {
      await net.waitForCandidates(3)
      // the next slot nobody has opened yet: its leader is the victim, killed once it has opened it
      // (mid-slot: its OpenSlot is out, its seal is not)
      killedAt = Math.max(net.beacon.clock.current(), ...net.openedAt.keys()) + 1
      victim = leaderFor(killedAt, 4)
      await until(() => net.openedAt.has(killedAt), 10_000, `member ${victim} to open slot ${killedAt}`)
      net.killMember(victim)
      killedAfterMs = Date.now() - (net.openedAt.get(killedAt) ?? 0)
      await until(() => Math.max(...net.candidates.keys()) >= killedAt + CRASH_WINDOW, 90_000, `a candidate for slot ${killedAt + CRASH_WINDOW}`)
      follower = new Map(net.candidates)
      pinned.config = net.config
      for (let i = 0; i < 4; i++) {
        for (const line of await logLines(net.members[i].logPath)) {
          if (i === victim) { victimLog.push(line) }
          if (line.event === 'simulation-recorded') {
            recorded.set(i, (recorded.get(i) ?? new Set()).add(`${String(line.slot)}:${String(line.member)}`))
          }
          if (line.event === 'slot-sealed' && line.sealer === 'self' && typeof line.slot === 'number') {
            sealedBy.set(line.slot, [...(sealedBy.get(line.slot) ?? []), i])
          }
        }
      }
    })
    expectOneCandidatePerSlot(stores, follower)
    const outcome = expectCrashOutcome({
      killedAt,
      victim,
      killedAfterMs,
      sealed: new Set([...follower.keys(), ...[...stores.values()].flatMap(m => [...m.keys()])]),
      sealedBy,
      recorded,
      opened: victimLog.find(l => l.event === 'slot-opened' && l.slot === killedAt),
      victimSlot: candidateAt(follower, stores, killedAt),
      config: pinned.config as Config
    })
    // what became of the victim's slot, in the report line
    if (this.test != null) { this.test.title += ` [${outcome}]` }
  })

  it('byzantine minority (1 of 4): sealed by the honest majority; the divergent key never signs; divergence counted', async () => {
    let follower = new Map<number, CandidateValue>()
    let divergence = 0
    const bad: { key?: Uint8Array } = {}
    const stores = await withTestnet({ members: 4, memberEntries: { 3: DIVERGENT_MEMBER } }, async net => {
      await net.waitForCandidates(8)
      follower = new Map(net.candidates)
      bad.key = net.config.committee[3].blsPublicKey
      for (const i of [0, 1, 2]) { divergence += await scrape(net.members[i].ready?.metricsPort, 'simulation_divergence_total') }
    })
    expect(follower.size).to.be.at.least(8)
    const isBad = (k: Uint8Array): boolean => bad.key != null && equalBytes(k, bad.key)
    for (const c of follower.values()) {
      const signedByBad = c.committeeRoster.filter(isBad).length
      expect(signedByBad, `slot ${c.slot} signed by the divergent member`).to.equal(0)
      expect(c.committeeRoster.length).to.equal(3)
    }
    expect(divergence).to.be.greaterThan(0)
    expectOneCandidatePerSlot(stores, follower)
  })

  it('an equivocating leader (two signed OpenSlots for each slot it opens): at most one candidate per slot, and the honest members hold the evidence (atelier evidence lists it)', async () => {
    let follower = new Map<number, CandidateValue>()
    const evidence: Array<Record<string, unknown>> = []
    const pinned: { config?: Config } = {}
    const stores = await withTestnet({ members: 4, memberEntries: { 1: EQUIVOCATING_MEMBER } }, async net => {
      pinned.config = net.config
      await until(async () => (await scrape(net.members[0].ready?.metricsPort, 'atelier_equivocations_total')) >= 2, 60_000, 'member 0 to record two equivocations')
      await net.waitForCandidates(net.candidates.size + 2)
      follower = new Map(net.candidates)
      expect(await scrape(net.members[2].ready?.metricsPort, 'atelier_equivocations_total')).to.be.greaterThan(0)
    }, async out => {
      const { stdout } = await execFileAsync(process.execPath, [fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url)), 'evidence', '--data', join(out, 'member-0', 'data')])
      for (const line of stdout.trim().split('\n')) { evidence.push(JSON.parse(line)) }
    })
    expectOneCandidatePerSlot(stores, follower)
    for (const c of follower.values()) { expect(verify(c, pinned.config as Config), `slot ${c.slot}`).to.equal(true) }
    expect(new Set(evidence.map(e => e.slot)).size, 'slots with evidence').to.be.at.least(2)
    for (const e of evidence) {
      expect(e).to.deep.include({ kind: 'openSlot', member: 1 })
      expect(e.rootA).to.not.equal(e.rootB)
    }
  })

  it('byzantine minority (2 of 7): sealed by the honest majority only', async () => {
    let follower = new Map<number, CandidateValue>()
    let badKeys: Uint8Array[] = []
    await withTestnet({ members: 7, blockTime: 2, txsPerSlot: 4, memberEntries: { 1: DIVERGENT_MEMBER, 5: DIVERGENT_MEMBER } }, async net => {
      await net.waitForCandidates(5, 180_000)
      follower = new Map(net.candidates)
      badKeys = [1, 5].map(i => net.config.committee[i].blsPublicKey)
      expect(await scrape(net.members[0].ready?.metricsPort, 'simulation_divergence_total')).to.be.greaterThan(0)
    })
    for (const c of follower.values()) {
      expect(c.committeeRoster.length).to.be.at.least(4)
      for (const bad of badKeys) { expect(c.committeeRoster.some(k => equalBytes(k, bad))).to.equal(false) }
    }
  })

  it('two of seven dead (next to each other in the roster, so one slot needs the member two ranks down): at most one slot lost per kill, every other slot sealed', async () => {
    let follower = new Map<number, CandidateValue>()
    let from = 0
    const dead: number[] = []
    await withTestnet({ members: 7, blockTime: 2, txsPerSlot: 4 }, async net => {
      await net.waitForCandidates(3, 120_000)
      // the leaders of the next two slots: adjacent roster indices
      const next = Math.max(net.beacon.clock.current(), ...net.openedAt.keys()) + 2
      dead.push(leaderFor(next, 7), leaderFor(next + 1, 7))
      for (const i of dead) { net.killMember(i) }
      from = net.beacon.clock.current() + 1
      await until(() => Math.max(...net.candidates.keys()) >= from + 14, 120_000, `a candidate for slot ${from + 14}`)
      follower = new Map(net.candidates)
    })
    const window = Array.from({ length: 14 }, (_, k) => from + k)
    const lost = window.filter(s => !follower.has(s))
    expect(lost.length, `slots lost with members ${dead.join(' and ')} dead: ${lost.join(', ')}`).to.be.at.most(dead.length)
    // the slot both dead members would have led in turn (the leader, then the next by rank) was sealed too
    const deepest = window.filter(s => leaderFor(s, 7) === dead[0])
    expect(deepest.filter(s => follower.has(s)).length, `slots ${deepest.join(', ')} (led by ${dead[0]}, next rank ${dead[1]})`).to.be.at.least(1)
  })

  it('restart: a stopped member catches up through sync and signs on, never twice', async () => {
    let restartedHolds: number[] = []
    let sealedWhileDown: number[] = []
    let ledAfter = -1
    let led: CandidateValue | undefined
    const restarted: { key?: Uint8Array } = {}
    const signedBy = (c: CandidateValue): boolean => restarted.key != null && c.committeeRoster.some(k => equalBytes(k, restarted.key as Uint8Array))
    const stores = await withTestnet({ members: 4 }, async net => {
      await net.waitForCandidates(3)
      await net.stopMember(2)
      const downFrom = Math.max(...net.candidates.keys())
      await net.waitForCandidates(net.candidates.size + 4)
      sealedWhileDown = [...net.candidates.keys()].filter(s => s > downFrom)
      await net.startMember(2)
      restarted.key = net.config.committee[2].blsPublicKey
      const lastDown = Math.max(...sealedWhileDown)
      await until(() => [...net.candidates.values()].some(c => c.slot > lastDown && signedBy(c)), 60_000, 'the restarted member to sign again')
      // and it leads again: the next slot it leads is sealed, with its signature
      const next = Math.max(...net.candidates.keys()) + 1
      ledAfter = next + (((2 - next) % 4) + 4) % 4
      await until(() => Math.max(...net.candidates.keys()) > ledAfter, 30_000, `a candidate past slot ${ledAfter}`)
      led = net.candidates.get(ledAfter)
      expect(await readFile(net.members[2].logPath, 'utf8')).to.not.match(/double-sign-refused/)
    })
    restartedHolds = [...(stores.get(2)?.keys() ?? [])]
    for (const s of sealedWhileDown) { expect(restartedHolds, `slot ${s} caught up`).to.include(s) }
    expect(led, `slot ${ledAfter}, led by the restarted member`).to.not.equal(undefined)
    expect(signedBy(led as CandidateValue), `slot ${ledAfter} signed by the restarted member`).to.equal(true)
  })

  it('intruders (wrong MR_TD, expired operator ticket) are never admitted; the run is unaffected', async () => {
    await withTestnet({ members: 4 }, async net => {
      await net.waitForCandidates(2)
      const intruder = async (mrTd: Uint8Array, ticketTtl: number): Promise<Plane> => {
        const key = await generateKeyPair('Ed25519')
        const ticket = await net.operatorTicket(peerIdFromPrivateKey(key).toString(), ticketTtl)
        return Plane.create({
          name: 'intruder',
          privateKey: key,
          listen: [],
          policy: policyFromConfig(net.config, ['member']),
          evidence: new MemberEvidenceSource(new TestTdProvider(net.testTd, { mrTd }), ticket),
          topics: []
        })
      }
      const wrongMrtd = await intruder(new Uint8Array(48).fill(0xee), 3600)
      const expired = await intruder(net.config.mrtdAcl[0], -60)
      try {
        for (const p of [wrongMrtd, expired]) {
          const err = await p.connect(net.members[0].ready?.private[0] as string).then(() => undefined, (e: Error) => e)
          expect(err).to.be.instanceOf(Error)
          expect(p.node.getConnections().length).to.equal(0)
        }
        const port = net.members[0].ready?.metricsPort
        await until(async () => await scrape(port, 'atelier_admission_rejections_total', { plane: 'private', reason: 'mrtd-not-allowed' }) >= 1 &&
          await scrape(port, 'atelier_admission_rejections_total', { plane: 'private', reason: 'ticket-expired' }) >= 1, 10_000, 'both rejections counted')
        // libp2p's own metrics ride along, per plane
        expect(await scrape(port, 'libp2p_data_transfer_bytes_total', { plane: 'private' })).to.be.greaterThan(0)
        const before = net.candidates.size
        await net.waitForCandidates(before + 3)
      } finally {
        await wrongMrtd.stop()
        await expired.stop()
      }
    })
  })

  it('late follower: started after 5 sealed slots, it yields all of them', async () => {
    await withTestnet({ members: 4 }, async net => {
      await net.waitForCandidates(5)
      const seen = [...net.candidates.keys()].sort((a, b) => a - b)
      const { key, jwt } = await net.clientKey('reader')
      const late = await Reader.start({ config: net.config, ticket: jwt, privateKey: key, bootstrap: net.publicAddrs() })
      try {
        const got: number[] = []
        for await (const c of late) {
          got.push(c.slot)
          if (got.length >= seen.length) { break }
        }
        expect(got).to.deep.equal(seen)
      } finally {
        await late.stop()
      }
    })
  })

  it('key rotation: a new BLS key and roster (new ATELIER_ROOT: new topics) keeps sealing; old candidates verify only under the old config', async () => {
    await withTestnet({ members: 4 }, async net => {
      await net.waitForCandidates(3)
      const old = [...net.candidates.values()]
      const { before, after } = await net.rotateKey(1)
      expect(after.root().toString()).to.not.equal(before.root().toString())
      expect(after.committee[1].blsPublicKey).to.not.deep.equal(before.committee[1].blsPublicKey)
      await net.waitForCandidates(3, 120_000)
      const fresh = [...net.candidates.values()].filter(c => c.slot > Math.max(...old.map(o => o.slot)))
      expect(fresh.length).to.be.at.least(1)
      for (const c of old) {
        expect(verify(c, before)).to.equal(true)
        expect(verify(c, after)).to.equal(false)
      }
      for (const c of fresh) {
        expect(verify(c, after)).to.equal(true)
        expect(verify(c, before)).to.equal(false)
      }
    })
  })
})
