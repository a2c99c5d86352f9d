/**
 * The second-EVM check: the chain (anvil, revm) executed exactly the candidate's transactions, in
 * order, with its timestamp, fee recipient and base fee; its block must then be the candidate's.
 * Compared directly: the transaction hashes in order, `gasUsed`, `receiptsRoot` (every receipt's
 * status, cumulative gas and logs), `logsBloom`, `transactionsRoot`, `withdrawalsRoot`. The header is
 * compared through the block hash: the candidate's header with the chain's own values put in for the
 * fields the chain cannot be told to take — `prevRandao` (anvil draws its own `mixHash`), `extraData`
 * (anvil writes its own), `parentBeaconBlockRoot` (anvil mines with zero) and `stateRoot` where the
 * two differ (anvil 1.7.1 keeps zeroed storage slots as leaves, so its root is not canonical after a
 * block that zeroes one) — must hash to the chain's block hash, which proves every other field equal.
 * `transactionsRoot` too where the chain was given blob transactions in their network form and rooted
 * those instead of the canonical ones (anvil 1.7.1 does): allowed only when the chain's root is
 * exactly the root of the forms it was given, while the transaction hashes are compared one by one.
 *
 * Pure: the caller fetches the block.
 */
import { executionBlockHash, fromHex, keccak256, orderedTrieRoot, toHex } from '../../proto/index.ts'
import type { CandidateValue } from '../../proto/index.ts'

/** The block as `eth_getBlockByNumber(n, false)` gives it (the fields compared). */
export interface ChainBlock {
  hash: string
  number: string
  mixHash: string
  extraData: string
  stateRoot: string
  receiptsRoot: string
  transactionsRoot: string
  withdrawalsRoot?: string
  parentBeaconBlockRoot?: string
  logsBloom: string
  gasUsed: string
  transactions: string[]
}

export interface SecondEvmVerdict {
  /** each difference: the field, the candidate's value, the chain's */
  mismatches: Array<{ field: string, candidate: string, chain: string }>
  /** the header fields the chain's values were put in for */
  substituted: string[]
  /** the chain's state root differs from the candidate's (not canonical on anvil after a zeroed slot) */
  stateRootDiffers: boolean
}

const hex = (b: Uint8Array): string => `0x${toHex(b)}`

/** `sent`: the transactions as the chain was given them (blob ones in their network form), if not the body */
export function secondEvmCheck (c: CandidateValue, block: ChainBlock, sent: Uint8Array[] = c.body): SecondEvmVerdict {
  const mismatches: SecondEvmVerdict['mismatches'] = []
  const expect = (field: string, candidate: string, chain: string | undefined): void => {
    if (candidate.toLowerCase() !== (chain ?? '').toLowerCase()) { mismatches.push({ field, candidate, chain: chain ?? '(absent)' }) }
  }
  const hashes = c.body.map(raw => hex(keccak256(raw)))
  expect('transaction count', String(hashes.length), String(block.transactions.length))
  hashes.forEach((h, i) => { expect(`transaction ${i}`, h, block.transactions[i]) })
  expect('gasUsed', String(c.header.gasUsed), String(Number(BigInt(block.gasUsed))))
  expect('receiptsRoot', hex(c.header.receiptsRoot), block.receiptsRoot)
  expect('logsBloom', hex(c.header.logsBloom), block.logsBloom)
  const networkFormRoot = sent !== c.body && hex(orderedTrieRoot(sent)) === block.transactionsRoot.toLowerCase()
  if (!networkFormRoot) { expect('transactionsRoot', hex(c.header.transactionsRoot), block.transactionsRoot) }
  expect('withdrawalsRoot', hex(c.header.withdrawalsRoot), block.withdrawalsRoot)
  const stateRootDiffers = hex(c.header.stateRoot) !== block.stateRoot.toLowerCase()
  const header = {
    ...c.header,
    prevRandao: fromHex(block.mixHash),
    extraData: fromHex(block.extraData),
    parentBeaconBlockRoot: fromHex(block.parentBeaconBlockRoot ?? `0x${'00'.repeat(32)}`),
    stateRoot: fromHex(block.stateRoot),
    transactionsRoot: networkFormRoot ? fromHex(block.transactionsRoot) : c.header.transactionsRoot
  }
  const substituted = ['prevRandao', 'extraData', 'parentBeaconBlockRoot', ...(stateRootDiffers ? ['stateRoot'] : []), ...(networkFormRoot ? ['transactionsRoot'] : [])]
    .filter(f => f === 'stateRoot' || f === 'transactionsRoot' || hex((c.header as unknown as Record<string, Uint8Array>)[f]) !== hex((header as unknown as Record<string, Uint8Array>)[f]))
  expect('blockHash (header with the chain\'s own values for the fields it cannot take)', hex(executionBlockHash(header)), block.hash)
  return { mismatches, substituted, stateRootDiffers }
}

/** A verdict for the slot's line: `equal`, `equal (stateRoot not canonical)` or `MISMATCH: <field>`. */
export function verdictWords (v: SecondEvmVerdict): string {
  const mismatch = v.mismatches[0]
  if (mismatch != null) { return `MISMATCH: ${mismatch.field}` }
  return v.stateRootDiffers ? 'equal (stateRoot not canonical)' : 'equal'
}
