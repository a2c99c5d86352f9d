/**
 * Equivocation evidence, checked without trusting whoever sent it: a member's two valid BLS signatures
 * over two different roots where the protocol lets it sign one — two OpenSlots for a slot (their
 * signatures bind the slot and the opener: `openSlotHeaderSigningRoot`), or two simulation outputs
 * for a slot. A simulation's signature is over the candidate root it computed, whose preimage binds
 * the slot but is not part of the evidence, so that kind binds its slot only as far as the private,
 * attested-only plane it came from vouches for it.
 */
import { blsVerify } from './bls.ts'
import { equalBytes } from './bytes.ts'
import { openSlotHeaderSigningRoot, openSlotInputsRoot } from './signing.ts'
import type { EquivocationValue, OpenSlotValue, SimOutputValue } from './types.ts'

export const EquivocationKind = { openSlot: 1, simulation: 2 } as const
export type EquivocationKindName = keyof typeof EquivocationKind

export function equivocationKindName (kind: number): EquivocationKindName | undefined {
  return (Object.keys(EquivocationKind) as EquivocationKindName[]).find(k => EquivocationKind[k] === kind)
}

/** Why `e` is not evidence against its member under this roster; undefined when it is. */
export function equivocationFault (e: EquivocationValue, roster: Uint8Array[], domainId: Uint8Array): string | undefined {
  const kind = equivocationKindName(e.kind)
  if (kind == null) { return `unknown evidence kind ${e.kind}` }
  const pk = roster[e.member]
  if (pk == null) { return `member ${e.member} is outside the roster of ${roster.length}` }
  if (equalBytes(e.rootA, e.rootB)) { return 'the two roots are the same: a repeat, not an equivocation' }
  const signed = (root: Uint8Array): Uint8Array => kind === 'openSlot' ? openSlotHeaderSigningRoot(e.slot, e.member, root, domainId) : root
  if (!blsVerify(pk, signed(e.rootA), e.signatureA)) { return 'the first signature does not verify' }
  if (!blsVerify(pk, signed(e.rootB), e.signatureB)) { return 'the second signature does not verify' }
  return undefined
}

/** The evidence two OpenSlots by one opener for one slot make. */
export function openSlotEquivocation (a: OpenSlotValue, b: OpenSlotValue): EquivocationValue {
  return { kind: EquivocationKind.openSlot, slot: a.slot, member: a.leaderIndex, rootA: openSlotInputsRoot(a), signatureA: a.signature, rootB: openSlotInputsRoot(b), signatureB: b.signature }
}

/** The evidence two simulation outputs by one member for one slot make. */
export function simulationEquivocation (a: SimOutputValue, b: SimOutputValue): EquivocationValue {
  return { kind: EquivocationKind.simulation, slot: a.slot, member: a.memberIndex, rootA: a.outputHash, signatureA: a.signature, rootB: b.outputHash, signatureB: b.signature }
}
