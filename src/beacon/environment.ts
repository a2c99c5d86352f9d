/**
 * A slot's environment as the consensus layer fixes it: the fields of a `payload_attributes` event
 * (beacon API, post-Deneb), and the two directions atelier needs. `environmentFromEvent` checks one
 * parsed event (a Deneb-or-later version, a 20-byte fee recipient, at most 16 withdrawals, and the
 * timestamp the slot clock gives its slot: anything else is a `beacon-bad-event`); `environmentEvent`
 * encodes one in the beacon API's JSON through Lodestar's own SSZ types, so the event source the
 * testnet runs speaks the real format; `environmentMismatch` names the first field in which a
 * leader's OpenSlot differs from this member's view.
 */
import { ssz } from '@lodestar/types'
import { equalBytes, fromHex, MAX_WITHDRAWALS_PER_PAYLOAD, toHex } from '../proto/index.ts'
import { BeaconError } from './errors.ts'
import type { SlotClock } from './slot-clock.ts'
import type { OpenSlotValue, WithdrawalValue } from '../proto/index.ts'

/** The consensus forks whose payload attributes carry a parent beacon root (Deneb on). */
export const ATTRIBUTE_FORKS = ['deneb', 'electra', 'fulu'] as const
export type AttributeFork = typeof ATTRIBUTE_FORKS[number]

export interface SlotEnvironment {
  /** the consensus fork the event was encoded under */
  fork: AttributeFork
  slot: number
  proposerIndex: number
  /** the parent's beacon block root */
  parentBlockRoot: Uint8Array
  parentBlockNumber: number
  /** the parent execution block's hash, 0x-prefixed lower-case hex */
  parentBlockHash: string
  timestamp: number
  prevRandao: Uint8Array
  /** the proposer's suggested fee recipient: the block value accrues to it */
  feeRecipient: Uint8Array
  withdrawals: WithdrawalValue[]
  parentBeaconBlockRoot: Uint8Array
}

/** An event's `data` as Lodestar's `SSEPayloadAttributes` (Deneb on) parses it. */
export interface ParsedPayloadAttributes {
  proposerIndex: number
  proposalSlot: number
  parentBlockNumber: number
  parentBlockRoot: Uint8Array
  parentBlockHash: Uint8Array
  payloadAttributes: {
    timestamp: number
    prevRandao: Uint8Array
    suggestedFeeRecipient: string
    withdrawals: Array<{ index: number, validatorIndex: number, address: Uint8Array, amount: bigint }>
    parentBeaconBlockRoot?: Uint8Array
  }
}

function bad (message: string): BeaconError {
  return new BeaconError('beacon-bad-event', `payload_attributes: ${message}`)
}

function isAttributeFork (version: string): version is AttributeFork {
  return (ATTRIBUTE_FORKS as readonly string[]).includes(version)
}

/** One parsed event, checked against the slot clock; throws `beacon-bad-event` with the reason. */
export function environmentFromEvent (version: string, data: ParsedPayloadAttributes, clock: SlotClock): SlotEnvironment {
  if (!isAttributeFork(version)) {
    throw bad(`version "${version}" is not one atelier builds for (${ATTRIBUTE_FORKS.join(', ')}): before Deneb there is no parent beacon root`)
  }
  const a = data.payloadAttributes
  if (a.parentBeaconBlockRoot == null) {
    throw bad(`a ${version} event without parent_beacon_block_root`)
  }
  if (!/^0x[0-9a-fA-F]{40}$/.test(a.suggestedFeeRecipient)) {
    throw bad(`suggested_fee_recipient ${JSON.stringify(a.suggestedFeeRecipient).slice(0, 50)} is not a 20-byte address`)
  }
  if (a.withdrawals.length > MAX_WITHDRAWALS_PER_PAYLOAD) {
    throw bad(`${a.withdrawals.length} withdrawals; a payload takes at most ${MAX_WITHDRAWALS_PER_PAYLOAD}`)
  }
  const expected = clock.timestampOf(data.proposalSlot)
  if (a.timestamp !== expected) {
    throw bad(`slot ${data.proposalSlot} has timestamp ${a.timestamp}; the slot clock (genesis ${clock.genesisTime}, ${clock.secondsPerSlot} s per slot) gives ${expected}`)
  }
  return {
    fork: version,
    slot: data.proposalSlot,
    proposerIndex: data.proposerIndex,
    parentBlockRoot: data.parentBlockRoot,
    parentBlockNumber: data.parentBlockNumber,
    parentBlockHash: `0x${toHex(data.parentBlockHash)}`,
    timestamp: a.timestamp,
    prevRandao: a.prevRandao,
    feeRecipient: fromHex(a.suggestedFeeRecipient),
    withdrawals: a.withdrawals.map(w => ({ index: BigInt(w.index), validatorIndex: BigInt(w.validatorIndex), address: w.address, amount: w.amount })),
    parentBeaconBlockRoot: a.parentBeaconBlockRoot
  }
}

/** The event's body in the beacon API's JSON (`{ version, data }`), as a beacon node sends it. */
export function environmentEvent (env: SlotEnvironment): { version: AttributeFork, data: unknown } {
  const value: ParsedPayloadAttributes = {
    proposerIndex: env.proposerIndex,
    proposalSlot: env.slot,
    parentBlockNumber: env.parentBlockNumber,
    parentBlockRoot: env.parentBlockRoot,
    parentBlockHash: fromHex(env.parentBlockHash),
    payloadAttributes: {
      timestamp: env.timestamp,
      prevRandao: env.prevRandao,
      suggestedFeeRecipient: `0x${toHex(env.feeRecipient)}`,
      withdrawals: env.withdrawals.map(w => ({ index: Number(w.index), validatorIndex: Number(w.validatorIndex), address: w.address, amount: w.amount })),
      parentBeaconBlockRoot: env.parentBeaconBlockRoot
    }
  }
  return { version: env.fork, data: ssz[env.fork].SSEPayloadAttributes.toJson(value as never) }
}

function withdrawalsDiffer (a: WithdrawalValue[], b: WithdrawalValue[]): boolean {
  return a.length !== b.length || a.some((w, i) => w.index !== b[i].index || w.validatorIndex !== b[i].validatorIndex ||
    w.amount !== b[i].amount || !equalBytes(w.address, b[i].address))
}

/** The first field in which `open` departs from `env` (with both values), or undefined. */
export function environmentMismatch (open: OpenSlotValue, env: SlotEnvironment): string | undefined {
  const hex = (b: Uint8Array): string => `0x${toHex(b)}`
  if (open.parentNumber !== env.parentBlockNumber) { return `parent number: OpenSlot ${open.parentNumber}, beacon ${env.parentBlockNumber}` }
  if (open.timestamp !== env.timestamp) { return `timestamp: OpenSlot ${open.timestamp}, beacon ${env.timestamp}` }
  if (!equalBytes(open.prevRandao, env.prevRandao)) { return `prevRandao: OpenSlot ${hex(open.prevRandao)}, beacon ${hex(env.prevRandao)}` }
  if (!equalBytes(open.feeRecipient, env.feeRecipient)) { return `feeRecipient: OpenSlot ${hex(open.feeRecipient)}, beacon ${hex(env.feeRecipient)}` }
  if (!equalBytes(open.parentBeaconBlockRoot, env.parentBeaconBlockRoot)) {
    return `parentBeaconBlockRoot: OpenSlot ${hex(open.parentBeaconBlockRoot)}, beacon ${hex(env.parentBeaconBlockRoot)}`
  }
  if (withdrawalsDiffer(open.withdrawals, env.withdrawals)) {
    return `withdrawals: OpenSlot has ${open.withdrawals.length} (first index ${open.withdrawals[0]?.index ?? '-'}), beacon ${env.withdrawals.length} (first index ${env.withdrawals[0]?.index ?? '-'})`
  }
  return undefined
}
