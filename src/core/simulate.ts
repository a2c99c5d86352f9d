/**
 * Simulates one slot into an execution block: decode, order canonically, the pre-transaction system
 * writes, execute on the parent state with every non-deterministic input pinned from the slot
 * inputs, then withdrawals and EIP-7685 requests, and the header with every field the block hash
 * commits to. Deterministic for a given state source: the same inputs give the same bytes in any
 * process. The post-state root comes only from a state source that computes one (proven parent
 * state); elsewhere it is zero, and the header is a block's only in form.
 */
import { createBlock, createBlockHeader } from '@ethereumjs/block'
import { bytesToHex, createAddressFromString } from '@ethereumjs/util'
import { createVM } from '@ethereumjs/vm'
import { executionBlockHash, MAX_CANDIDATE_BLOCK_BYTES, orderedTrieRoot, requestsHashOf, withdrawalsRootOf } from '../proto/index.ts'
import { applyWithdrawals, collectRequests } from './block-end.ts'
import { blobParameters, GAS_PER_BLOB, makeCommon, rulesAt } from './chain-rules.ts'
import { txDecoder } from './decode.ts'
import { executeUnits, MAX_RLP_BLOCK_BYTES } from './execute.ts'
import { writeSystemHistory } from './system-calls.ts'
import { collectUnits } from './units.ts'
import type { ChainRules, ForkSchedule } from './chain-rules.ts'
import type { ParentHeader, SlotInputs, SlotResult, StateSource } from './slot-types.ts'
import type { CandidateHeaderValue } from '../proto/index.ts'
import type { BlockHeader } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'

/** The fork's blob gas maximum per block (EIP-7892's BPO forks state it as a blob count). */
function maxBlobGasOf (common: Common): bigint | undefined {
  return common.isActivatedEIP(4844) ? BigInt(blobParameters(common).max) * GAS_PER_BLOB : undefined
}

/**
 * The block's RLP size cap: a block the committee builds must fit one gossip frame (the proto's
 * MAX_CANDIDATE_BLOCK_BYTES), one it re-executes in a fixed order (a block test) EIP-7934's only.
 */
function blockBytesCap (osaka: boolean, fixedOrder: boolean): number | undefined {
  if (fixedOrder) { return osaka ? MAX_RLP_BLOCK_BYTES : undefined }
  return osaka ? Math.min(MAX_RLP_BLOCK_BYTES, MAX_CANDIDATE_BLOCK_BYTES) : MAX_CANDIDATE_BLOCK_BYTES
}

/** A block given whole (`fixedOrder`) that its rules do not allow. */
export class InvalidBlockError extends Error {
  readonly code = 'invalid-block'
}

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

export async function simulateSlot (inputs: SlotInputs, schedule: ChainRules | ForkSchedule, source: StateSource): Promise<SlotResult> {
  // the fork in force at the block's own timestamp: a slot across a fork boundary runs the new rules
  const rules = rulesAt(schedule, inputs.env.timestamp)
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
  const parentBeaconBlockRoot = inputs.env.parentBeaconBlockRoot ?? new Uint8Array(32)
  const excessBlobGas = parentHeader.calcNextExcessBlobGas(common)
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
      excessBlobGas,
      parentBeaconBlockRoot
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
  // one checkpoint around the whole block: each unit's commit then stays in the state manager's
  // caches, and the trie is written once, at the end, instead of once per unit (a proven parent's
  // partial trie re-hashed every touched path after each pool transaction)
  await vm.stateManager.checkpoint()
  await writeSystemHistory(vm, common, number, inputs.parent.hash, inputs.env.timestamp, parentBeaconBlockRoot)

  const coinbaseAddress = createAddressFromString(coinbase)
  const valueBefore = (await vm.stateManager.getAccount(coinbaseAddress))?.balance ?? 0n
  const executed = await executeUnits(vm, block, units, {
    gasLimit: inputs.env.gasLimit,
    baseFee,
    maxBlockBytes: blockBytesCap(common.gteHardfork('osaka'), inputs.fixedOrder === true),
    maxBlobGas: maxBlobGasOf(common)
  }, excluded)
  const valueAfter = (await vm.stateManager.getAccount(coinbaseAddress))?.balance ?? 0n
  if (inputs.fixedOrder === true && excluded.length > 0) {
    throw new InvalidBlockError(`transaction ${excluded[0].hash}: ${excluded[0].reason}`)
  }
  const withdrawals = inputs.withdrawals ?? []
  await applyWithdrawals(vm, withdrawals)
  const executionRequests = await collectRequests(vm, common, executed.logs)
  await vm.stateManager.commit()

  // a proven parent's partial trie gives the post-state root; an RPC-backed one cannot
  const stateRoot = source.computesStateRoot === true ? await vm.stateManager.getStateRoot() : undefined
  const receiptsRoot = orderedTrieRoot(executed.receipts)
  // the body holds the bytes as received; the decoder accepts only canonical encodings, so they are
  // what `serialize()` would give, without encoding every transaction again
  const transactionsRoot = orderedTrieRoot(executed.body)
  const header: CandidateHeaderValue = {
    parentHash: inputs.parent.hash,
    feeRecipient: inputs.env.feeRecipient,
    stateRoot: stateRoot ?? new Uint8Array(32),
    receiptsRoot,
    logsBloom: executed.logsBloom,
    prevRandao: inputs.env.prevRandao,
    number: Number(number),
    gasLimit: Number(inputs.env.gasLimit),
    gasUsed: Number(executed.gasUsed),
    timestamp: Number(inputs.env.timestamp),
    extraData: inputs.env.extraData ?? new Uint8Array(0),
    baseFeePerGas: baseFee,
    blockHash: new Uint8Array(32),
    transactionsRoot,
    withdrawalsRoot: withdrawalsRootOf(withdrawals),
    blobGasUsed: Number(executed.blobGasUsed),
    excessBlobGas: Number(excessBlobGas),
    parentBeaconBlockRoot,
    requestsHash: requestsHashOf(executionRequests)
  }
  header.blockHash = executionBlockHash(header)
  return {
    body: executed.body,
    included: executed.included,
    excluded,
    gasUsed: executed.gasUsed,
    baseFeePerGas: baseFee,
    receiptsRoot,
    transactionsRoot,
    ...(stateRoot != null ? { stateRoot } : {}),
    hintsApplied: executed.hintsApplied,
    header,
    withdrawals,
    executionRequests,
    // a fee recipient that pays out more than it earns (its own transactions) adds no value
    blockValue: valueAfter > valueBefore ? valueAfter - valueBefore : 0n
  }
}
