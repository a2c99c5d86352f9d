import { expect } from 'aegir/chai'
import fc from 'fast-check'
import { parseConfig, verify } from '../src/config/index.ts'
import { makeCommon } from '../src/core/index.ts'
import { AtelierMachine, DONE_REMEMBERED, leaderOrder, takeoverRank } from '../src/machine/index.ts'
import { Workload } from '../src/node/workload/workload.ts'
import { encodeMessage, equivocationFault, hintId, signHint, ssz } from '../src/proto/index.ts'
import { configJson, memberKeys } from './fixtures/committee.ts'
import { memorySimulator, openSlot as unsignedOpenSlot, RULES, simOutput } from './fixtures/slots.ts'
import type { SlotResult } from '../src/core/index.ts'
import type { SlotSpec } from '../src/machine/index.ts'
import type { EquivocationValue } from '../src/proto/index.ts'

const members = memberKeys(4)
const config = parseConfig(configJson(members))
const fp = config.root().bytes
const keys = Array.from({ length: 6 }, (_, i) => new Uint8Array(32).fill(i + 1))
/** an OpenSlot signed by the opener it names (member 0 unless told) */
const openSlot = (slot: number, unsealed: Uint8Array[], options: Parameters<typeof unsignedOpenSlot>[2] = {}): ReturnType<typeof unsignedOpenSlot> =>
  unsignedOpenSlot(slot, unsealed, options, { key: members[options.leaderIndex ?? 0], domainId: fp })

function newMachine (simulate?: (spec: SlotSpec) => Promise<SlotResult>): { machine: AtelierMachine, divergent: number[] } {
  const divergent: number[] = []
  const w = new Workload(makeCommon(RULES), keys)
  const machine = new AtelierMachine({
    roster: config.roster,
    domainId: fp,
    simulate: simulate ?? memorySimulator(w),
    onDivergence: (_slot, index) => { divergent.push(index) }
  })
  return { machine, divergent }
}

function transfers (slot: number): Uint8Array[] {
  const w = new Workload(makeCommon(RULES), keys)
  return [w.ethTransfer(0, w.addresses[1], BigInt(slot)), w.ethTransfer(1, w.addresses[2], 7n), w.ethTransfer(0, w.addresses[3], 9n)]
}

/** Opens `slot`, has members `agree` submit the honest output and `diverge` a different one. */
async function runSlot (machine: AtelierMachine, slot: number, agree: number[], diverge: number[] = []): Promise<Uint8Array> {
  expect(await machine.apply({ type: 'OpenSlot', value: openSlot(slot, transfers(slot)) })).to.deep.equal({ ok: true })
  const { outputHash } = machine.candidateOf(slot, await machine.simulate(slot))
  for (const i of diverge) {
    await machine.apply({ type: 'SubmitSimulation', value: simOutput(slot, i, members[i], new Uint8Array(32).fill(0xdd)) })
  }
  for (const i of agree) {
    expect(await machine.apply({ type: 'SubmitSimulation', value: simOutput(slot, i, members[i], outputHash) })).to.deep.equal({ ok: true })
  }
  return outputHash
}

describe('machine: AtelierMachine', function () {
  this.timeout(60_000)

  it('seals a slot agreed by a majority into a candidate that verifies', async () => {
    const { machine } = newMachine()
    const outputHash = await runSlot(machine, 1, [0, 1, 2])
    expect(machine.query({ type: 'SimulationAgreement', slot: 1 })?.members).to.deep.equal([0, 1, 2])
    expect(await machine.apply({ type: 'SealCandidate', value: { slot: 1, outputHash, signers: [0, 1, 2] } })).to.deep.equal({ ok: true })
    const candidate = machine.query({ type: 'CandidateFor', slot: 1 })
    expect(candidate).to.not.equal(undefined)
    expect(candidate?.body).to.have.length(3)
    expect(candidate?.committeeRoster).to.deep.equal(members.slice(0, 3).map(m => m.publicKey))
    expect(verify(candidate as never, config)).to.equal(true)
  })

  it('invariant: one candidate per slot', async () => {
    const { machine } = newMachine()
    const outputHash = await runSlot(machine, 2, [0, 1, 2, 3])
    expect((await machine.apply({ type: 'SealCandidate', value: { slot: 2, outputHash, signers: [0, 1, 2] } })).ok).to.equal(true)
    const second = await machine.apply({ type: 'SealCandidate', value: { slot: 2, outputHash, signers: [1, 2, 3] } })
    expect(second).to.deep.include({ ok: false, code: 'already-sealed' })
    expect(machine.query({ type: 'CandidateFor', slot: 2 })?.committeeRoster).to.have.length(3)
  })

  it('invariant: two machines fed the same commands hold byte-identical candidates', async () => {
    const a = newMachine().machine
    const b = newMachine().machine
    for (const m of [a, b]) {
      const outputHash = await runSlot(m, 3, [3, 1, 0])
      await m.apply({ type: 'SealCandidate', value: { slot: 3, outputHash, signers: [0, 1, 3] } })
    }
    const bytes = (m: AtelierMachine): string => Buffer.from(encodeMessage('Candidate', m.query({ type: 'CandidateFor', slot: 3 }) as never)).toString('hex')
    expect(bytes(a)).to.equal(bytes(b))
  })

  it('invariant: a minority cannot commit, even when its output arrives first', async () => {
    const { machine } = newMachine()
    await machine.apply({ type: 'OpenSlot', value: openSlot(4, transfers(4)) })
    const wrong = new Uint8Array(32).fill(0xdd)
    await machine.apply({ type: 'SubmitSimulation', value: simOutput(4, 0, members[0], wrong) })
    await machine.apply({ type: 'SubmitSimulation', value: simOutput(4, 1, members[1], wrong) })
    expect(machine.query({ type: 'SimulationAgreement', slot: 4 })?.outputHash).to.equal(undefined)
    expect(await machine.apply({ type: 'SealCandidate', value: { slot: 4, outputHash: wrong, signers: [0, 1] } })).to.deep.include({ code: 'no-agreement' })
    // even a forged majority claim for an output this member did not compute is refused
    await machine.apply({ type: 'SubmitSimulation', value: simOutput(4, 2, members[2], wrong) })
    expect(await machine.apply({ type: 'SealCandidate', value: { slot: 4, outputHash: wrong, signers: [0, 1, 2] } })).to.deep.include({ code: 'local-divergence' })
    expect(machine.query({ type: 'CandidateFor', slot: 4 })).to.equal(undefined)
  })

  it('invariant: divergence is counted for every output that differs from the agreed one', async () => {
    const { machine, divergent } = newMachine()
    await runSlot(machine, 5, [1, 2, 3], [0])
    expect(machine.divergenceTotal).to.equal(1)
    expect(divergent).to.deep.equal([0])
  })

  it('a second, different output is equivocation: evidence that checks out, and the member\'s signatures for the slot are out', async () => {
    const evidence: EquivocationValue[] = []
    const w = new Workload(makeCommon(RULES), keys)
    const machine = new AtelierMachine({ roster: config.roster, domainId: fp, simulate: memorySimulator(w), onEquivocation: e => evidence.push(e) })
    const outputHash = await runSlot(machine, 6, [0, 1])
    const other = await machine.apply({ type: 'SubmitSimulation', value: simOutput(6, 0, members[0], new Uint8Array(32).fill(1)) })
    expect(other).to.deep.include({ code: 'equivocation' })
    expect(machine.equivocationTotal).to.equal(1)
    expect(evidence).to.have.length(1)
    expect(evidence[0]).to.deep.include({ kind: 2, slot: 6, member: 0 })
    expect(equivocationFault(evidence[0], config.roster, fp)).to.equal(undefined)
    // member 0 is out for slot 6: its first output no longer counts, nor does a resend
    expect(machine.query({ type: 'SimulationAgreement', slot: 6 })?.tallies.flatMap(t => t.members)).to.deep.equal([1])
    expect(await machine.apply({ type: 'SubmitSimulation', value: simOutput(6, 0, members[0], outputHash) })).to.deep.include({ code: 'excluded' })
    await machine.apply({ type: 'SubmitSimulation', value: simOutput(6, 2, members[2], outputHash) })
    expect(await machine.apply({ type: 'SealCandidate', value: { slot: 6, outputHash, signers: [0, 1, 2] } })).to.deep.include({ code: 'bad-signer-set' })
    expect(await machine.apply({ type: 'SubmitSimulation', value: simOutput(6, 9, members[0], outputHash) })).to.deep.include({ code: 'unknown-member' })
    expect(await machine.apply({ type: 'SubmitSimulation', value: simOutput(6, 3, members[2], outputHash) })).to.deep.include({ code: 'bad-simulation-signature' })
    await machine.apply({ type: 'SubmitSimulation', value: simOutput(6, 3, members[3], outputHash) })
    expect(await machine.apply({ type: 'SealCandidate', value: { slot: 6, outputHash, signers: [1, 2, 3] } })).to.deep.equal({ ok: true })
  })

  it('OpenSlot: signed by the opener it names (leader or takeover); a rival opener\'s later one is kept out, the same opener\'s other one is evidence', async () => {
    const evidence: EquivocationValue[] = []
    const w = new Workload(makeCommon(RULES), keys)
    const machine = new AtelierMachine({ roster: config.roster, domainId: fp, simulate: memorySimulator(w), onEquivocation: e => evidence.push(e) })
    const forged = { ...openSlot(5, transfers(5), { leaderIndex: 1 }), leaderIndex: 2 }
    expect(await machine.apply({ type: 'OpenSlot', value: forged })).to.deep.include({ code: 'bad-open-signature' })
    expect(await machine.apply({ type: 'OpenSlot', value: unsignedOpenSlot(5, []) })).to.deep.include({ code: 'bad-open-signature' })
    // member 2 takes slot 5 over (its leader, member 1, never opened it)
    const takeover = openSlot(5, transfers(5), { leaderIndex: 2 })
    expect(await machine.apply({ type: 'OpenSlot', value: takeover })).to.deep.equal({ ok: true })
    expect(machine.slotSpec(5)?.open.leaderIndex).to.equal(2)
    expect(await machine.apply({ type: 'OpenSlot', value: openSlot(5, [], { leaderIndex: 1 }) })).to.deep.include({ code: 'slot-exists' })
    expect(evidence).to.deep.equal([])
    expect(await machine.apply({ type: 'OpenSlot', value: openSlot(5, [], { leaderIndex: 2 }) })).to.deep.include({ code: 'equivocation' })
    expect(evidence).to.have.length(1)
    expect(evidence[0]).to.deep.include({ kind: 1, slot: 5, member: 2 })
    expect(equivocationFault(evidence[0], config.roster, fp)).to.equal(undefined)
    expect(equivocationFault({ ...evidence[0], slot: 6 }, config.roster, fp)).to.match(/does not verify/)
    // the same OpenSlot again is a repeat, not evidence
    expect(await machine.apply({ type: 'OpenSlot', value: takeover })).to.deep.include({ code: 'slot-exists' })
    expect(evidence).to.have.length(1)
  })

  it('remembers a bounded number of done slots; every slot below them counts as done', async () => {
    const { machine } = newMachine()
    const empty = (slot: number): ReturnType<typeof openSlot> => ({ ...openSlot(slot, []), hintIds: [] })
    for (let slot = 0; slot <= DONE_REMEMBERED + 2; slot++) {
      await machine.apply({ type: 'OpenSlot', value: empty(slot) })
      await machine.apply({ type: 'MarkDone', value: { slot } })
    }
    expect(await machine.apply({ type: 'OpenSlot', value: empty(1) })).to.deep.include({ code: 'slot-done' })
    expect(await machine.apply({ type: 'OpenSlot', value: empty(DONE_REMEMBERED + 2) })).to.deep.include({ code: 'slot-done' })
    expect(await machine.apply({ type: 'OpenSlot', value: empty(DONE_REMEMBERED + 3) })).to.deep.equal({ ok: true })
  })

  it('AcceptHint: open slot, announced count, signature, acl; hints are simulated after the auction bundle', async () => {
    const coKey = new Uint8Array(32).fill(0x42)
    const w = new Workload(makeCommon(RULES), keys)
    const hint = signHint(coKey, 7, { txs: [w.ethTransfer(2, w.addresses[0], 1n)], revertProtected: false }, fp)
    const { machine } = newMachine()
    expect(await machine.apply({ type: 'AcceptHint', value: { slot: 7, sequence: 0, hint } })).to.deep.include({ code: 'slot-not-open' })
    await machine.apply({ type: 'OpenSlot', value: openSlot(7, transfers(7), { hintIds: [hintId(hint)] }) })
    expect(machine.inputsComplete(7)).to.equal(false)
    expect(await machine.apply({ type: 'AcceptHint', value: { slot: 7, sequence: 0, hint: { ...hint, slot: 8 } } })).to.deep.include({ code: 'hint-slot-mismatch' })
    expect(await machine.apply({ type: 'AcceptHint', value: { slot: 7, sequence: 1, hint } })).to.deep.include({ code: 'hint-sequence' })
    const forged = { ...hint, coBuilder: new Uint8Array(20).fill(1) }
    expect(await machine.apply({ type: 'AcceptHint', value: { slot: 7, sequence: 0, hint: forged } })).to.deep.include({ code: 'bad-hint-signature' })
    // a well-signed hint the OpenSlot did not announce (anyone could send one): not taken
    const unannounced = signHint(coKey, 7, { txs: [w.ethTransfer(3, w.addresses[0], 2n)], revertProtected: false }, fp)
    expect(await machine.apply({ type: 'AcceptHint', value: { slot: 7, sequence: 0, hint: unannounced } })).to.deep.include({ code: 'hint-not-announced' })
    expect(await machine.apply({ type: 'AcceptHint', value: { slot: 7, sequence: 0, hint } })).to.deep.equal({ ok: true })
    expect(machine.inputsComplete(7)).to.equal(true)
    expect(machine.query({ type: 'HintsFor', slot: 7 })).to.have.length(1)
    const result = await machine.simulate(7)
    expect(result.included[0].origin).to.equal('hint')
    expect(result.hintsApplied).to.have.length(1)

    const strict = new AtelierMachine({ roster: config.roster, domainId: fp, coBuilderAcl: [new Uint8Array(20)], simulate: memorySimulator(w) })
    await strict.apply({ type: 'OpenSlot', value: openSlot(7, [], { hintIds: [hintId(hint)] }) })
    expect(await strict.apply({ type: 'AcceptHint', value: { slot: 7, sequence: 0, hint } })).to.deep.include({ code: 'cobuilder-not-allowed' })
  })

  it('MarkDone garbage-collects a slot; it cannot be reopened', async () => {
    const { machine } = newMachine()
    await runSlot(machine, 8, [0, 1, 2])
    expect(machine.query({ type: 'OpenSlots' })).to.deep.equal([8])
    expect(await machine.apply({ type: 'MarkDone', value: { slot: 8 } })).to.deep.equal({ ok: true })
    expect(machine.query({ type: 'OpenSlots' })).to.deep.equal([])
    expect(await machine.apply({ type: 'OpenSlot', value: openSlot(8, []) })).to.deep.include({ code: 'slot-done' })
    expect(await machine.apply({ type: 'SubmitSimulation', value: simOutput(8, 3, members[3], new Uint8Array(32)) })).to.deep.include({ code: 'slot-done' })
  })

  it('leader order is a deterministic rotation with takeover ranks', () => {
    expect(leaderOrder(5, 4)).to.deep.equal([1, 2, 3, 0])
    expect(takeoverRank(5, 4, 1)).to.equal(0)
    expect(takeoverRank(5, 4, 0)).to.equal(3)
  })

  describe('replay: 20 slots, member messages in any order gossip can deliver (property)', () => {
    type Cmd = Parameters<AtelierMachine['apply']>[0]
    const SLOTS = Array.from({ length: 20 }, (_, i) => 10 + i)
    /** every slot's messages by name: `open`, `sim0` … `sim3`, `seal` (names keep counterexamples short) */
    const messages = new Map<string, Cmd>()
    const cmd = (slot: number, name: string): Cmd => messages.get(`${slot}:${name}`) as Cmd
    const signersOf = (slot: number): number[] => [0, 1, 2, 3].filter(i => i !== slot % 4)
    let reference: string[] = []

    const candidates = (machine: AtelierMachine): string[] => SLOTS.map(slot => {
      const c = machine.query({ type: 'CandidateFor', slot })
      expect(c, `slot ${slot} sealed`).to.not.equal(undefined)
      return Buffer.from(ssz.Candidate.serialize(c as never)).toString('hex')
    })

    before(async () => {
      const recorder = newMachine().machine
      for (const slot of SLOTS) {
        const open = { type: 'OpenSlot' as const, value: openSlot(slot, transfers(slot)) }
        await recorder.apply(open)
        const { outputHash } = recorder.candidateOf(slot, await recorder.simulate(slot))
        messages.set(`${slot}:open`, open)
        // member slot % 4 diverges; the other three agree and sign
        members.forEach((m, i) => messages.set(`${slot}:sim${i}`, { type: 'SubmitSimulation', value: simOutput(slot, i, m, i === slot % 4 ? new Uint8Array(32).fill(slot) : outputHash) }))
        messages.set(`${slot}:seal`, { type: 'SealCandidate', value: { slot, outputHash, signers: signersOf(slot) } })
      }
      // the reference: slot by slot, simulations in roster order
      const { machine } = newMachine()
      for (const slot of SLOTS) {
        for (const name of ['open', 'sim0', 'sim1', 'sim2', 'sim3', 'seal']) {
          expect(await machine.apply(cmd(slot, name)), `${name} ${slot}`).to.deep.equal({ ok: true })
        }
      }
      reference = candidates(machine)
      expect(new Set(reference).size).to.equal(SLOTS.length)
    })

    /**
     * One slot's messages as one member can receive them: its OpenSlot first (the member buffers
     * anything else until it has it), the four simulations in any order, the SealCandidate after its
     * three signers' simulations (the divergent one may come before or after it).
     */
    const slotOrder = (slot: number): fc.Arbitrary<string[]> => fc.tuple(fc.shuffledSubarray([0, 1, 2, 3], { minLength: 4, maxLength: 4 }), fc.nat()).map(([order, pick]) => {
      const earliest = Math.max(...signersOf(slot).map(i => order.indexOf(i))) + 1
      const at = earliest + pick % (4 - earliest + 1)
      const sims = order.map(i => `${slot}:sim${i}`)
      return [`${slot}:open`, ...sims.slice(0, at), `${slot}:seal`, ...sims.slice(at)]
    })

    /** Slots interleaved at random, each keeping its own order. */
    const gossipOrder: fc.Arbitrary<string[]> = fc.tuple(
      fc.tuple(...SLOTS.map(slotOrder)),
      fc.shuffledSubarray(SLOTS.flatMap(slot => Array.from({ length: 6 }, () => slot)), { minLength: SLOTS.length * 6, maxLength: SLOTS.length * 6 })
    ).map(([perSlot, schedule]) => {
      const next = new Map<number, number>()
      return schedule.map(slot => {
        const k = next.get(slot) ?? 0
        next.set(slot, k + 1)
        return perSlot[SLOTS.indexOf(slot)][k]
      })
    })

    it('in gossip order: every command is accepted (a simulation after its slot\'s seal is refused as slot-sealed) and the candidates are byte-identical', async () => {
      await fc.assert(fc.asyncProperty(gossipOrder, async order => {
        const { machine, divergent } = newMachine()
        const sealed = new Set<number>()
        let late = 0
        for (const name of order) {
          const c = messages.get(name) as Cmd
          const r = await machine.apply(c)
          if (c.type === 'SubmitSimulation' && sealed.has(c.value.slot)) {
            expect(r, `${name} after its slot sealed`).to.deep.include({ ok: false, code: 'slot-sealed' })
            late++
          } else {
            expect(r, name).to.deep.equal({ ok: true })
          }
          if (c.type === 'SealCandidate') { sealed.add(c.value.slot) }
        }
        expect(candidates(machine)).to.deep.equal(reference)
        // only the divergent output can trail its seal; before it, it is counted as divergence
        expect(divergent).to.have.length(SLOTS.length - late)
      }), { numRuns: 40 })
    })

    it('in any order: what arrives before its slot is open (or before its signers) is refused, and once re-applied as a member does, the candidates are byte-identical', async () => {
      const all = [...messages.keys()]
      await fc.assert(fc.asyncProperty(fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }), async order => {
        const { machine } = newMachine()
        const buffered = new Map<number, string[]>()
        const opened = new Set<number>()
        const deliver = async (name: string): Promise<void> => {
          const c = messages.get(name) as Cmd
          const slot = c.value.slot
          const r = await machine.apply(c)
          if (r.ok) {
            if (c.type === 'OpenSlot') { opened.add(slot) }
            // what waited for this step is retried (the member's buffer)
            const waiting = buffered.get(slot) ?? []
            buffered.delete(slot)
            for (const w of waiting) { await deliver(w) }
            return
          }
          if (!opened.has(slot)) {
            expect(r, `${name} before its OpenSlot`).to.deep.include({ code: 'slot-not-open' })
          } else if (c.type === 'SealCandidate') {
            expect(r, `${name} before its signers' simulations`).to.deep.include({ code: 'bad-signer-set' })
          } else {
            expect(r, `${name} after its slot sealed`).to.deep.include({ code: 'slot-sealed' })
            return
          }
          buffered.set(slot, [...(buffered.get(slot) ?? []), name])
        }
        for (const name of order) { await deliver(name) }
        expect([...buffered.values()].flat(), 'still buffered').to.deep.equal([])
        expect(candidates(machine)).to.deep.equal(reference)
      }), { numRuns: 30 })
    })
  })
})
