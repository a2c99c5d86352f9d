/**
 * Simulates one slot: decode, order canonically, execute on the parent state with every
 * non-deterministic input pinned from the slot inputs, and report the body, per-transaction outcomes,
 * gas and the receipts and transactions roots. Deterministic for a given state source: the same inputs
 * give the same bytes in any process.
 */
import { createBlock, createBlockHeader } from '@ethereumjs/block'
import { bytesToHex } from '@ethereumjs/util'
import { createVM, encodeReceipt, runTx } from '@ethereumjs/vm'
import { makeCommon } from './chain-rules.ts'
import { txDecoder } from './decode.ts'
import { effectiveTip, orderPool } from './ordering.ts'
import { writeSystemHistory } from './system-calls.ts'
import { orderedTrieRoot } from './trie-root.ts'
import type { ChainRules } from './chain-rules.ts'
import type { TxDecoder } from './decode.ts'
import type { DecodedTx } from './decode.ts'
import type { ExcludedTx, IncludedTx, ParentHeader, SlotInputs, SlotResult, StateSource, TxOrigin } from './slot-types.ts'
import type { BundleValue } from '../proto/index.ts'
import type { Block, BlockHeader } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import type { VM } from '@ethereumjs/vm'

interface Unit {
  origin: TxOrigin
  revertProtected: boolean
  hintId?: Uint8Array
  txs: DecodedTx[]
}

/** The parent as ethereumjs sees it: base fee and blob gas of the child follow from it. */
function parentBlockHeader (parent: ParentHeader, common: Common): BlockHeader {
  return createBlockHeader({
    number: parent.number,
    timestamp: parent.timestamp,
    gasLimit: parent.gasLimit,
    gasUsed: parent.gasUsed,
    baseFeePerGas: parent.baseFeePerGas,
    excessBlobGas: parent.excessBlobGas ?? 0n,
    blobGasUsed: parent.blobGasUsed ?? 0n
  }, { common, skipConsensusFormatValidation: true })
}

/** Decodes and orders a slot's inputs into execution units (a bundle, or one pool transaction). */
function collectUnits (inputs: SlotInputs, decoder: TxDecoder, baseFee: bigint): { units: Unit[], excluded: ExcludedTx[] } {
  const excluded: ExcludedTx[] = []
  const decodeAll = (raws: Uint8Array[], origin: TxOrigin): DecodedTx[] | undefined => {
    const out: DecodedTx[] = []
    let failed = false
    for (const raw of raws) {
      const d = decoder.decode(raw)
      if (d.ok) {
        out.push(d.value)
      } else {
        excluded.push({ hash: d.hash, origin, reason: d.reason })
        failed = true
      }
    }
    return failed ? undefined : out
  }

  const units: Unit[] = []
  const bundleUnit = (bundle: BundleValue, origin: TxOrigin, hintId?: Uint8Array): void => {
    const txs = decodeAll(bundle.txs, origin)
    if (txs == null) {
      // a bundle lands whole or not at all: one undecodable member drops the rest
      for (const raw of bundle.txs) {
        const d = decoder.decode(raw)
        if (d.ok) {
          excluded.push({ hash: d.value.hash, origin, reason: 'bundle has an undecodable transaction' })
        }
      }
      return
    }
    units.push({ origin, revertProtected: bundle.revertProtected, hintId, txs })
  }
  if (inputs.auctionWinner != null) {
    bundleUnit(inputs.auctionWinner, 'auction')
  }
  for (const hint of inputs.hints) {
    bundleUnit(hint.bundle, 'hint', hint.id)
  }
  const pool = orderPool(inputs.unsealed.flatMap(raw => {
    const d = decoder.decode(raw)
    if (!d.ok) {
      excluded.push({ hash: d.hash, origin: 'pool', reason: d.reason })
      return []
    }
    return [d.value]
  }), baseFee)
  for (const d of pool.dropped) {
    excluded.push({ hash: d.hash, origin: 'pool', reason: d.reason })
  }
  for (const tx of pool.ordered) {
    units.push({ origin: 'pool', revertProtected: false, txs: [tx] })
  }

  return { units, excluded }
}

interface Executed {
  body: Uint8Array[]
  included: IncludedTx[]
  receipts: Uint8Array[]
  hintsApplied: Uint8Array[]
  gasUsed: bigint
}

/**
 * Runs the units in order. Each unit runs inside a state checkpoint: a revert-protected bundle with a
 * reverted or invalid member is rolled back whole; otherwise invalid transactions are skipped alone.
 */
async function executeUnits (vm: VM, block: Block, units: Unit[], gasLimit: bigint, baseFee: bigint, excluded: ExcludedTx[]): Promise<Executed> {
  const seen = new Set<string>()
  const body: Uint8Array[] = []
  const included: IncludedTx[] = []
  const receipts: Uint8Array[] = []
  const hintsApplied: Uint8Array[] = []
  let gasUsed = 0n

  for (const unit of units) {
    await vm.stateManager.checkpoint()
    const staged: Array<{ d: DecodedTx, gas: bigint, status: 0 | 1, receipt: Uint8Array }> = []
    const stagedExcluded: ExcludedTx[] = []
    let failed: string | undefined
    let unitGas = gasUsed
    for (const d of unit.txs) {
      if (seen.has(d.hash) || staged.some(s => s.d.hash === d.hash)) {
        stagedExcluded.push({ hash: d.hash, origin: unit.origin, reason: 'duplicate' })
        continue
      }
      if (unitGas + d.tx.gasLimit > gasLimit) {
        failed = 'block gas limit reached'
        stagedExcluded.push({ hash: d.hash, origin: unit.origin, reason: failed })
        if (unit.revertProtected) { break }
        continue
      }
      try {
        const result = await runTx(vm, { tx: d.tx, block, blockGasUsed: unitGas, skipHardForkValidation: true })
        const status = result.execResult.exceptionError == null ? 1 : 0
        unitGas += result.totalGasSpent
        staged.push({ d, gas: result.totalGasSpent, status, receipt: encodeReceipt(result.receipt, d.tx.type) })
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
        failed = invalidReason(err, d, baseFee)
        stagedExcluded.push({ hash: d.hash, origin: unit.origin, reason: failed })
        if (unit.revertProtected) { break }
      }
    }
    if (unit.revertProtected && failed != null) {
      await vm.stateManager.revert()
      const reason = `revert-protected bundle excluded whole (${failed})`
      for (const d of unit.txs) {
        excluded.push({ hash: d.hash, origin: unit.origin, reason })
      }
      continue
    }
    await vm.stateManager.commit()
    excluded.push(...stagedExcluded)
    for (const s of staged) {
      seen.add(s.d.hash)
      body.push(s.d.raw)
      receipts.push(s.receipt)
      included.push({ hash: s.d.hash, sender: s.d.sender, origin: unit.origin, gasUsed: s.gas, status: s.status })
    }
    gasUsed = unitGas
    if (unit.hintId != null && staged.length > 0) {
      hintsApplied.push(unit.hintId)
    }
  }

  return { body, included, receipts, hintsApplied, gasUsed }
}

export async function simulateSlot (inputs: SlotInputs, rules: ChainRules, source: StateSource): Promise<SlotResult> {
  const common = makeCommon(rules)
  const parentHeader = parentBlockHeader(inputs.parent, common)
  const baseFee = parentHeader.calcNextBaseFee()
  const { units, excluded } = collectUnits(inputs, txDecoder(rules), baseFee)

  const stateManager = source.stateManager(common)
  const coinbase = bytesToHex(inputs.env.feeRecipient)
  if (source.prefetch != null) {
    const addresses = new Set<string>([coinbase])
    for (const u of units) {
      for (const t of u.txs) {
        addresses.add(t.sender)
        if (t.tx.to != null) {
          addresses.add(t.tx.to.toString())
        }
      }
    }
    const calls = units.flatMap(u => u.txs).map(t => ({
      from: t.sender,
      to: t.tx.to?.toString(),
      data: bytesToHex(t.tx.data),
      value: `0x${t.tx.value.toString(16)}`,
      gas: `0x${t.tx.gasLimit.toString(16)}`
    }))
    // a warm-up only: execution reads whatever it needs regardless, so results cannot depend on it
    await Promise.all([
      source.prefetch([...addresses].sort()),
      source.prefetchCalls?.(calls).catch(() => {})
    ])
  }

  const number = inputs.parent.number + 1n
  const block = createBlock({
    header: {
      number,
      parentHash: inputs.parent.hash,
      coinbase: inputs.env.feeRecipient,
      timestamp: inputs.env.timestamp,
      gasLimit: inputs.env.gasLimit,
      baseFeePerGas: baseFee,
      mixHash: inputs.env.prevRandao,
      difficulty: 0n,
      excessBlobGas: parentHeader.calcNextExcessBlobGas(common),
      parentBeaconBlockRoot: new Uint8Array(32)
    }
  }, { common, skipConsensusFormatValidation: true })
  const vm = await createVM({
    common,
    stateManager,
    // BLOCKHASH reads the real chain through the pinned RPC (the default answers zero)
    blockchain: {
      getBlock: async (n: bigint | number) => {
        const hash = await source.blockHash(BigInt(n))
        return { hash: () => hash }
      },
      shallowCopy () { return this }
    } as never
  })
  await writeSystemHistory(vm, common, number, inputs.parent.hash, inputs.env.timestamp)

  const { body, included, receipts, hintsApplied, gasUsed } = await executeUnits(vm, block, units, inputs.env.gasLimit, baseFee, excluded)

  // a proven parent's partial trie gives the post-state root; an RPC-backed one cannot
  const stateRoot = source.computesStateRoot === true ? await vm.stateManager.getStateRoot() : undefined
  const receiptsRoot = orderedTrieRoot(receipts)
  // the body holds the bytes as received; the decoder accepts only canonical encodings, so they are
  // what `serialize()` would give, without encoding every transaction again
  const transactionsRoot = orderedTrieRoot(body)
  return {
    body,
    included,
    excluded,
    gasUsed,
    baseFeePerGas: baseFee,
    receiptsRoot,
    transactionsRoot,
    ...(stateRoot != null ? { stateRoot } : {}),
    hintsApplied,
    header: {
      number: Number(number),
      parentHash: inputs.parent.hash,
      feeRecipient: inputs.env.feeRecipient,
      timestamp: Number(inputs.env.timestamp),
      prevRandao: inputs.env.prevRandao,
      gasLimit: Number(inputs.env.gasLimit),
      gasUsed: Number(gasUsed),
      baseFeePerGas: baseFee,
      receiptsRoot,
      transactionsRoot
    }
  }
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
 * Why runTx refused a transaction, in geth's words (what a wallet or searcher expects to read). Matched
 * on the first clause of ethereumjs' message: the rest of it describes the block and the transaction,
 * and names fields ("nonce", "balance") of its own.
 */
export function invalidReason (err: unknown, d: DecodedTx, baseFee: bigint): string {
  // ethereumjs appends " (vm … -> block … -> tx …)": the part that names fields of its own
  const head = (err as Error).message.split('\n')[0].replace(/ \(vm .*$/, '')
  const intrinsic = /INTRINSIC_GAS_TOO_LOW: tx gas limit (\d+) is lower than the minimum gas limit of (\d+)/.exec(head)
  if (intrinsic != null) {
    return `intrinsic gas too low: gas ${intrinsic[1]}, minimum needed ${intrinsic[2]}`
  }
  const nonce = /account has nonce of: (\d+) tx has nonce of: (\d+)/.exec(head)
  if (nonce != null) {
    return `${BigInt(nonce[2]) < BigInt(nonce[1]) ? 'nonce too low' : 'nonce too high'}: next nonce ${nonce[1]}, tx nonce ${nonce[2]}`
  }
  if (/EIP-7825 cap/.test(head)) {
    return 'gas limit over the EIP-7825 cap'
  }
  if (/is less than the block's baseFeePerGas/.test(head) || effectiveTip(d.tx, baseFee) < 0n) {
    return `max fee per gas less than block base fee (base fee ${baseFee})`
  }
  if (/maxFeePerBlobGas/.test(head)) {
    return 'max fee per blob gas less than block blob gas fee'
  }
  if (/not EOA/.test(head)) {
    return 'sender not an eoa'
  }
  if (/enough funds/.test(head)) {
    return 'insufficient funds for gas * price + value'
  }
  return `invalid: ${head.slice(0, 200)}`
}
