/**
 * Runs a slot's units on the VM. Each unit runs inside a state checkpoint: a revert-protected bundle
 * with a reverted or invalid member is rolled back whole; otherwise invalid transactions are skipped
 * alone, each with its reason in geth's words. A failure of the state source itself fails the slot.
 */
import { encodeReceipt, runTx } from '@ethereumjs/vm'
import { GAS_PER_BLOB } from './chain-rules.ts'
import { effectiveTip } from './ordering.ts'
import type { DecodedTx } from './decode.ts'
import type { ExcludedTx, ExclusionOutlook, IncludedTx } from './slot-types.ts'
import type { Unit } from './units.ts'
import type { Block } from '@ethereumjs/block'
import type { VM } from '@ethereumjs/vm'

/** A receipt's log: address, topics, data. */
export type Log = [address: Uint8Array, topics: Uint8Array[], data: Uint8Array]

export interface Executed {
  body: Uint8Array[]
  included: IncludedTx[]
  receipts: Uint8Array[]
  hintsApplied: Uint8Array[]
  gasUsed: bigint
  /** every included transaction's logs, in block order (EIP-6110 reads deposits from them) */
  logs: Log[]
  /** the block's logs bloom: the union of the receipts' */
  logsBloom: Uint8Array
  /** EIP-4844: the blob gas of the included blob transactions */
  blobGasUsed: bigint
}

/**
 * Runs the units in order. Each unit runs inside a state checkpoint: a revert-protected bundle with a
 * reverted or invalid member is rolled back whole; otherwise invalid transactions are skipped alone.
 */
/** EIP-4844: the blob gas a transaction's blobs take. */
function blobGasOf (d: DecodedTx): bigint {
  const hashes = (d.tx as { blobVersionedHashes?: unknown[] }).blobVersionedHashes
  return BigInt(hashes?.length ?? 0) * GAS_PER_BLOB
}

interface Staged { d: DecodedTx, gas: bigint, status: 0 | 1, receipt: Uint8Array, logs: Log[], bloom: Uint8Array }

/** One unit's transactions, inside its checkpoint: what ran, what was refused, and why the unit failed. */
/** Why a transaction is left out at the block's RLP size cap, naming whose cap it is. */
function blockSizeCapReached (cap: number): string {
  const whose = cap === MAX_RLP_BLOCK_BYTES ? 'EIP-7934' : 'the committee\'s: its candidate must fit one gossip frame'
  return `block size cap reached (${cap} bytes of RLP, ${whose})`
}

async function runUnit (vm: VM, block: Block, unit: Unit, seen: Set<string>, gasUsed: bigint, limits: BlockLimits, bytesUsed: number, blobGasUsed: bigint): Promise<{ staged: Staged[], refused: ExcludedTx[], failed?: string, gas: bigint }> {
  const { gasLimit, baseFee } = limits
  const staged: Staged[] = []
  const refused: ExcludedTx[] = []
  let failed: string | undefined
  let gas = gasUsed
  let bytes = bytesUsed
  let blobGas = blobGasUsed
  for (const d of unit.txs) {
    if (seen.has(d.hash) || staged.some(s => s.d.hash === d.hash)) {
      refused.push({ hash: d.hash, origin: unit.origin, reason: 'duplicate', outlook: 'never' })
      continue
    }
    if (gas + d.tx.gasLimit > gasLimit) {
      failed = 'block gas limit reached'
      refused.push({ hash: d.hash, origin: unit.origin, reason: failed, outlook: 'room' })
      if (unit.revertProtected) { break }
      continue
    }
    if (limits.maxBlockBytes != null && bytes + txListBytes(d.raw) > limits.maxBlockBytes) {
      failed = blockSizeCapReached(limits.maxBlockBytes)
      refused.push({ hash: d.hash, origin: unit.origin, reason: failed, outlook: 'room' })
      if (unit.revertProtected) { break }
      continue
    }
    if (limits.maxBlobGas != null && blobGas + blobGasOf(d) > limits.maxBlobGas) {
      failed = `blob gas limit reached (${limits.maxBlobGas} per block)`
      refused.push({ hash: d.hash, origin: unit.origin, reason: failed, outlook: 'room' })
      if (unit.revertProtected) { break }
      continue
    }
    bytes += txListBytes(d.raw)
    blobGas += blobGasOf(d)
    try {
      const result = await runTx(vm, { tx: d.tx, block, blockGasUsed: gas, skipHardForkValidation: true })
      const status = result.execResult.exceptionError == null ? 1 : 0
      gas += result.totalGasSpent
      staged.push({ d, gas: result.totalGasSpent, status, receipt: encodeReceipt(result.receipt, d.tx.type), logs: result.receipt.logs, bloom: result.bloom.bitvector })
      if (status === 0 && unit.revertProtected) {
        failed = `reverted: ${result.execResult.exceptionError?.error ?? 'revert'}`
        break
      }
    } catch (err) {
      if (isStateFailure(err)) {
        // the parent state could not be read (or proven): no fault of the transaction's, and
        // excluding it would sign a body other members, whose reads succeeded, do not build
        throw err
      }
      const invalid = invalidReason(err, d, baseFee)
      failed = invalid.reason
      bytes -= txListBytes(d.raw)
      blobGas -= blobGasOf(d)
      refused.push({ hash: d.hash, origin: unit.origin, ...invalid })
      if (unit.revertProtected) { break }
    }
  }
  return { staged, refused, failed, gas }
}

export interface BlockLimits {
  gasLimit: bigint
  baseFee: bigint
  /** EIP-7934 (Osaka on): the RLP block's bytes at most, header and withdrawals reserved */
  maxBlockBytes?: number
  /** EIP-4844: the block's blob gas at most (the fork's maximum blobs × 131,072) */
  maxBlobGas?: bigint
}

/** EIP-7934: MAX_BLOCK_SIZE (10 MiB) less its 2 MiB safety margin */
export const MAX_RLP_BLOCK_BYTES = 8_388_608
/** room kept for the header, the withdrawals and the lists' own prefixes */
const BLOCK_OVERHEAD_BYTES = 4096

/** What a transaction adds to the block's RLP: its bytes and (for a typed one) a string prefix. */
function txListBytes (raw: Uint8Array): number {
  return raw.length + (raw[0] < 0x7f ? 5 : 0)
}

export async function executeUnits (vm: VM, block: Block, units: Unit[], limits: BlockLimits, excluded: ExcludedTx[]): Promise<Executed> {
  const seen = new Set<string>()
  const body: Uint8Array[] = []
  const included: IncludedTx[] = []
  const receipts: Uint8Array[] = []
  const hintsApplied: Uint8Array[] = []
  const logs: Log[] = []
  const logsBloom = new Uint8Array(256)
  let blobGasUsed = 0n
  let gasUsed = 0n
  let bytesUsed = BLOCK_OVERHEAD_BYTES

  for (const unit of units) {
    await vm.stateManager.checkpoint()
    const { staged, refused, failed, gas } = await runUnit(vm, block, unit, seen, gasUsed, limits, bytesUsed, blobGasUsed)
    if (unit.revertProtected && failed != null) {
      await vm.stateManager.revert()
      const reason = `revert-protected bundle excluded whole (${failed})`
      for (const d of unit.txs) {
        excluded.push({ hash: d.hash, origin: unit.origin, reason, outlook: 'state' })
      }
      continue
    }
    await vm.stateManager.commit()
    excluded.push(...refused)
    for (const s of staged) {
      seen.add(s.d.hash)
      body.push(s.d.raw)
      bytesUsed += txListBytes(s.d.raw)
      receipts.push(s.receipt)
      logs.push(...s.logs)
      blobGasUsed += blobGasOf(s.d)
      s.bloom.forEach((b, i) => { logsBloom[i] |= b })
      included.push({ hash: s.d.hash, sender: s.d.sender, origin: unit.origin, gasUsed: s.gas, status: s.status })
    }
    gasUsed = gas
    if (unit.hintId != null && staged.length > 0) {
      hintsApplied.push(unit.hintId)
    }
  }

  return { body, included, receipts, hintsApplied, gasUsed, logs, logsBloom, blobGasUsed }
}

/**
 * An error of the state source (`StateSource` implementations throw errors with these codes: the
 * chain RPC's `rpc-*` and the proven state's `parent-state-*`), as opposed to a transaction's own.
 */
export function isStateFailure (err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && (code.startsWith('rpc-') || code.startsWith('parent-state-'))
}

/**
 * Why runTx refused a transaction, in geth's words (what a wallet or searcher expects to read), and
 * whether a later parent might take it. Matched on the first clause of ethereumjs' message: the rest
 * of it describes the block and the transaction, and names fields ("nonce", "balance") of its own.
 */
export function invalidReason (err: unknown, d: DecodedTx, baseFee: bigint): { reason: string, outlook: ExclusionOutlook } {
  // ethereumjs appends " (vm … -> block … -> tx …)": the part that names fields of its own
  const head = (err as Error).message.split('\n')[0].replace(/ \(vm .*$/, '')
  const never = (reason: string): { reason: string, outlook: ExclusionOutlook } => ({ reason, outlook: 'never' })
  const later = (reason: string): { reason: string, outlook: ExclusionOutlook } => ({ reason, outlook: 'state' })
  const intrinsic = /INTRINSIC_GAS_TOO_LOW: tx gas limit (\d+) is lower than the minimum gas limit of (\d+)/.exec(head)
  if (intrinsic != null) {
    return never(`intrinsic gas too low: gas ${intrinsic[1]}, minimum needed ${intrinsic[2]}`)
  }
  const nonce = /account has nonce of: (\d+) tx has nonce of: (\d+)/.exec(head)
  if (nonce != null) {
    // a nonce behind the account's is spent for good; one ahead waits for its gap to fill
    return BigInt(nonce[2]) < BigInt(nonce[1])
      ? never(`nonce too low: next nonce ${nonce[1]}, tx nonce ${nonce[2]}`)
      : later(`nonce too high: next nonce ${nonce[1]}, tx nonce ${nonce[2]}`)
  }
  if (/EIP-7825 cap/.test(head)) {
    return never('gas limit over the EIP-7825 cap')
  }
  if (/is less than the block's baseFeePerGas/.test(head) || effectiveTip(d.tx, baseFee) < 0n) {
    return later(`max fee per gas less than block base fee (base fee ${baseFee})`)
  }
  if (/maxFeePerBlobGas/.test(head)) {
    return later('max fee per blob gas less than block blob gas fee')
  }
  if (/not EOA/.test(head)) {
    return never('sender not an eoa')
  }
  if (/enough funds/.test(head)) {
    return later('insufficient funds for gas * price + value')
  }
  return later(`invalid: ${head.slice(0, 200)}`)
}
