import { expect } from 'aegir/chai'
import { parseConfig, verify } from '../src/config/index.ts'
import { makeCommon } from '../src/core/index.ts'
import { AtelierMachine, leaderOrder, takeoverRank } from '../src/machine/index.ts'
import { Workload } from '../src/node/workload/workload.ts'
import { encodeMessage, signHint, ssz } from '../src/proto/index.ts'
import { configJson, memberKeys } from './fixtures/committee.ts'
import { memorySimulator, openSlot, RULES, simOutput } from './fixtures/slots.ts'
import type { SlotResult } from '../src/core/index.ts'
import type { SlotSpec } from '../src/machine/index.ts'

const members = memberKeys(4)
const config = parseConfig(configJson(members))
const fp = config.root().bytes
const keys = Array.from({ length: 6 }, (_, i) => new Uint8Array(32).fill(i + 1))

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

  it('rejects equivocation, unknown members and bad signatures', async () => {
    const { machine } = newMachine()
    const outputHash = await runSlot(machine, 6, [0])
    const other = await machine.apply({ type: 'SubmitSimulation', value: simOutput(6, 0, members[0], new Uint8Array(32).fill(1)) })
    expect(other).to.deep.include({ code: 'equivocation' })
    expect(machine.equivocationTotal).to.equal(1)
    expect(await machine.apply({ type: 'SubmitSimulation', value: simOutput(6, 0, members[0], outputHash) })).to.deep.include({ code: 'duplicate-simulation' })
    expect(await machine.apply({ type: 'SubmitSimulation', value: simOutput(6, 9, members[0], outputHash) })).to.deep.include({ code: 'unknown-member' })
    expect(await machine.apply({ type: 'SubmitSimulation', value: simOutput(6, 1, members[2], outputHash) })).to.deep.include({ code: 'bad-simulation-signature' })
    expect(await machine.apply({ type: 'SealCandidate', value: { slot: 6, outputHash, signers: [0, 1, 2] } })).to.deep.include({ code: 'bad-signer-set' })
  })

  it('AcceptHint: open slot, announced count, signature, acl; hints are simulated after the auction bundle', async () => {
    const coKey = new Uint8Array(32).fill(0x42)
    const w = new Workload(makeCommon(RULES), keys)
    const hint = signHint(coKey, 7, { txs: [w.ethTransfer(2, w.addresses[0], 1n)], revertProtected: false }, fp)
    const { machine } = newMachine()
    expect(await machine.apply({ type: 'AcceptHint', value: { slot: 7, sequence: 0, hint } })).to.deep.include({ code: 'slot-not-open' })
    await machine.apply({ type: 'OpenSlot', value: openSlot(7, transfers(7), { hintCount: 1 }) })
    expect(machine.inputsComplete(7)).to.equal(false)
    expect(await machine.apply({ type: 'AcceptHint', value: { slot: 7, sequence: 0, hint: { ...hint, slot: 8 } } })).to.deep.include({ code: 'hint-slot-mismatch' })
    expect(await machine.apply({ type: 'AcceptHint', value: { slot: 7, sequence: 1, hint } })).to.deep.include({ code: 'hint-sequence' })
    const forged = { ...hint, coBuilder: new Uint8Array(20).fill(1) }
    expect(await machine.apply({ type: 'AcceptHint', value: { slot: 7, sequence: 0, hint: forged } })).to.deep.include({ code: 'bad-hint-signature' })
    expect(await machine.apply({ type: 'AcceptHint', value: { slot: 7, sequence: 0, hint } })).to.deep.equal({ ok: true })
    expect(machine.inputsComplete(7)).to.equal(true)
    expect(machine.query({ type: 'HintsFor', slot: 7 })).to.have.length(1)
    const result = await machine.simulate(7)
    expect(result.included[0].origin).to.equal('hint')
    expect(result.hintsApplied).to.have.length(1)

    const strict = new AtelierMachine({ roster: config.roster, domainId: fp, coBuilderAcl: [new Uint8Array(20)], simulate: memorySimulator(w) })
    await strict.apply({ type: 'OpenSlot', value: openSlot(7, [], { hintCount: 1 }) })
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

  it('replay: 20 slots with random interleavings of member messages give the same candidates', async () => {
    const record: Array<Parameters<AtelierMachine['apply']>[0]> = []
    const recorder = newMachine().machine
    let seed = 12345
    const random = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31 }
    for (let slot = 10; slot < 30; slot++) {
      const open = { type: 'OpenSlot' as const, value: openSlot(slot, transfers(slot)) }
      await recorder.apply(open)
      const { outputHash } = recorder.candidateOf(slot, await recorder.simulate(slot))
      const msgs = members.map((m, i) => ({ type: 'SubmitSimulation' as const, value: simOutput(slot, i, m, i === slot % 4 ? new Uint8Array(32).fill(slot) : outputHash) }))
      msgs.sort(() => random() - 0.5)
      record.push(open, ...msgs)
      const signers = [0, 1, 2, 3].filter(i => i !== slot % 4)
      record.push({ type: 'SealCandidate', value: { slot, outputHash, signers } })
    }
    const replays: string[][] = []
    for (let r = 0; r < 3; r++) {
      const { machine } = newMachine()
      for (const cmd of record) {
        await machine.apply(cmd)
      }
      replays.push(Array.from({ length: 20 }, (_, i) => {
        const c = machine.query({ type: 'CandidateFor', slot: 10 + i })
        expect(c, `slot ${10 + i} sealed`).to.not.equal(undefined)
        return Buffer.from(ssz.Candidate.serialize(c as never)).toString('hex')
      }))
    }
    expect(replays[1]).to.deep.equal(replays[0])
    expect(replays[2]).to.deep.equal(replays[0])
  })
})
