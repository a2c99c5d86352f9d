/**
 * The transaction gate at ingestion: a submitted transaction enters the pool only if it could run in
 * the next block — it decodes under the rules in force, is within the size, gas and fee bounds, and
 * its sender's nonce and balance on the latest head (proven against its state root, batched per call
 * and cached per block) allow it. What fails is refused with
 * geth's JSON-RPC error (code -32000, geth's words), so a wallet shows what it would show against a
 * node; nothing refused reaches the pool, the relay or a slot, so junk costs the gate, never a slot's
 * simulation.
 *
 * Owns TxGate, TxRefusal.
 */
import { createBlockHeader } from '@ethereumjs/block'
import { makeCommon, rulesAt, txDecoder } from '../core/index.ts'
import { MAX_TRANSACTION_BYTES } from '../proto/index.ts'
import type { RpcBlock } from '../chain/index.ts'
import type { ChainRules, DecodedTx, DecodeFailure, ForkSchedule } from '../core/index.ts'

/** ms before the head's state is asked again when an answer did not verify */
const STATE_RETRY_MS = 250

/** geth's error code for every transaction it will not take (JSON-RPC "server error") */
export const TX_REFUSED_RPC_CODE = -32000

export type TxRefusalCode =
  | 'oversized' | 'malformed' | 'type-not-supported' | 'chain-id' | 'signature' | 'gas-cap' | 'intrinsic-gas'
  | 'block-gas-limit' | 'tip-above-fee-cap' | 'fee-cap-too-low' | 'blob-fee-cap-too-low' | 'nonce-too-low'
  | 'insufficient-funds' | 'already-known' | 'replacement-underpriced' | 'account-limit' | 'pool-full'
  | 'no-head' | 'state-unavailable' | 'busy'

/** A refused transaction: `code` for metrics and logs, the message as geth words it. */
export class TxRefusal extends Error {
  readonly code: TxRefusalCode
  readonly rpcCode = TX_REFUSED_RPC_CODE

  constructor (code: TxRefusalCode, message: string) {
    super(message)
    this.code = code
  }
}

const DECODE_WORDS: Record<DecodeFailure, [TxRefusalCode, string]> = {
  empty: ['malformed', 'typed transaction too short'],
  malformed: ['malformed', 'invalid transaction'],
  'type-not-supported': ['type-not-supported', 'transaction type not supported'],
  'gas-cap': ['gas-cap', 'transaction gas limit too high'],
  'chain-id': ['chain-id', 'invalid chain id for signer'],
  signature: ['signature', 'invalid sender']
}

/** What the gate reads of the head's state: a sender's nonce and balance (undefined: no account). */
export interface GateState {
  account(address: string): Promise<{ nonce: bigint, balance: bigint } | undefined>
  /** proves these accounts in one batch before they are read one by one */
  prefetch?(addresses: string[]): Promise<void>
}

export interface TxGateOptions {
  rules(): ChainRules | ForkSchedule
  /** the chain's head as the member last saw it: the next block builds on it */
  head(): RpcBlock | undefined
  /** the head's verified state */
  state(head: RpcBlock): Promise<GateState>
}

/** A transaction the gate let through, with what the pool orders and bounds it by. */
export interface GatedTx {
  decoded: DecodedTx
  /** the sender's nonce on the head */
  stateNonce: bigint
}

/** A transaction's fee terms, whatever its type (legacy and EIP-2930: the gas price is both). */
export function feesOf (decoded: DecodedTx): { feeCap: bigint, tip: bigint } {
  const tx = decoded.tx as unknown as { maxFeePerGas?: bigint, maxPriorityFeePerGas?: bigint, gasPrice?: bigint }
  const feeCap = tx.maxFeePerGas ?? tx.gasPrice ?? 0n
  return { feeCap, tip: tx.maxPriorityFeePerGas ?? feeCap }
}

export class TxGate {
  readonly #o: TxGateOptions

  constructor (options: TxGateOptions) {
    this.#o = options
  }

  /**
   * Every check that needs no state; the decoded transaction, or a TxRefusal. `head` is the block the
   * next one builds on (its gas limit and base fee bound the transaction).
   */
  stateless (raw: Uint8Array, head: RpcBlock): DecodedTx {
    if (raw.length > MAX_TRANSACTION_BYTES) {
      throw new TxRefusal('oversized', `oversized data: transaction size ${raw.length}, limit ${MAX_TRANSACTION_BYTES}`)
    }
    const rules = rulesAt(this.#o.rules(), Number(BigInt(head.timestamp)) + 1)
    const outcome = txDecoder(rules).decode(raw)
    if (!outcome.ok) {
      const [code, words] = DECODE_WORDS[outcome.code]
      throw new TxRefusal(code, `${words}: ${outcome.reason}`)
    }
    const d = outcome.value
    const tx = d.tx
    const minimum = tx.getMinimumGasLimit()
    if (tx.gasLimit < minimum) {
      throw new TxRefusal('intrinsic-gas', `intrinsic gas too low: gas ${tx.gasLimit}, minimum needed ${minimum}`)
    }
    const blockGasLimit = BigInt(head.gasLimit)
    if (tx.gasLimit > blockGasLimit) {
      throw new TxRefusal('block-gas-limit', `exceeds block gas limit: gas ${tx.gasLimit}, block gas limit ${blockGasLimit}`)
    }
    const { feeCap, tip } = feesOf(d)
    if (tip > feeCap) {
      throw new TxRefusal('tip-above-fee-cap', `max priority fee per gas higher than max fee per gas: address ${d.sender}, maxPriorityFeePerGas: ${tip}, maxFeePerGas: ${feeCap}`)
    }
    const { baseFee, blobGasPrice } = nextFees(head, rules)
    if (feeCap < baseFee) {
      throw new TxRefusal('fee-cap-too-low', `max fee per gas less than block base fee: address ${d.sender}, maxFeePerGas: ${feeCap}, baseFee: ${baseFee}`)
    }
    const blobFeeCap = (tx as unknown as { maxFeePerBlobGas?: bigint }).maxFeePerBlobGas
    if (blobFeeCap != null && blobGasPrice != null && blobFeeCap < blobGasPrice) {
      throw new TxRefusal('blob-fee-cap-too-low', `max fee per blob gas less than block blob gas fee: address ${d.sender} blobGasFeeCap: ${blobFeeCap}, blobBaseFee: ${blobGasPrice}`)
    }
    return d
  }

  /** The head the gate judges against; refuses while none is known (the member is starting). */
  head (): RpcBlock {
    const head = this.#o.head()
    if (head == null) { throw new TxRefusal('no-head', 'the member has not seen the chain\'s head yet: try again in a slot') }
    return head
  }

  /**
   * Gates a batch: stateless checks first, then the senders' accounts on the head in one proof batch.
   * One outcome per transaction, in order (a GatedTx or the TxRefusal).
   */
  async admit (raws: Uint8Array[]): Promise<Array<GatedTx | TxRefusal>> {
    let head: RpcBlock
    try {
      head = this.head()
    } catch (err) {
      return raws.map(() => err as TxRefusal)
    }
    const first = raws.map(raw => {
      try {
        return this.stateless(raw, head)
      } catch (err) {
        if (err instanceof TxRefusal) { return err }
        return new TxRefusal('malformed', `invalid transaction: ${(err as Error).message}`)
      }
    })
    const senders = [...new Set(first.flatMap(d => d instanceof TxRefusal ? [] : [d.sender]))]
    if (senders.length === 0) { return first as TxRefusal[] }
    // an answer that does not verify may be a node caught between blocks (anvil serves a balance set
    // before the block that carries it is mined): asked again once before the sender hears of it
    let out = await this.#withState(head, first, senders)
    if (out.some(o => o instanceof TxRefusal && o.code === 'state-unavailable')) {
      await new Promise(resolve => setTimeout(resolve, STATE_RETRY_MS))
      out = await this.#withState(head, first, senders)
    }
    return out
  }

  async #withState (head: RpcBlock, first: Array<DecodedTx | TxRefusal>, senders: string[]): Promise<Array<GatedTx | TxRefusal>> {
    let state: GateState
    try {
      state = await this.#o.state(head)
      await state.prefetch?.(senders)
    } catch (err) {
      const refusal = new TxRefusal('state-unavailable', `the head's state could not be read to check the sender: ${(err as Error).message}`)
      return first.map(d => d instanceof TxRefusal ? d : refusal)
    }
    const out: Array<GatedTx | TxRefusal> = []
    for (const d of first) {
      if (d instanceof TxRefusal) {
        out.push(d)
        continue
      }
      try {
        out.push(await this.#againstState(d, state))
      } catch (err) {
        out.push(err instanceof TxRefusal ? err : new TxRefusal('state-unavailable', `the sender's account could not be read: ${(err as Error).message}`))
      }
    }
    return out
  }

  async #againstState (d: DecodedTx, state: GateState): Promise<GatedTx> {
    const account = await state.account(d.sender) ?? { nonce: 0n, balance: 0n }
    if (d.nonce < account.nonce) {
      throw new TxRefusal('nonce-too-low', `nonce too low: address ${d.sender}, tx: ${d.nonce} state: ${account.nonce}`)
    }
    const cost = costOf(d)
    if (account.balance < cost) {
      throw new TxRefusal('insufficient-funds', `insufficient funds for gas * price + value: address ${d.sender} have ${account.balance} want ${cost}`)
    }
    return { decoded: d, stateNonce: account.nonce }
  }
}

/** The most the transaction can cost its sender: gas at its fee cap, its value, its blob gas at its cap. */
export function costOf (d: DecodedTx): bigint {
  const tx = d.tx as unknown as { maxFeePerBlobGas?: bigint, blobVersionedHashes?: unknown[] }
  const blobGas = BigInt(tx.blobVersionedHashes?.length ?? 0) * 131_072n
  return d.tx.gasLimit * feesOf(d).feeCap + d.tx.value + blobGas * (tx.maxFeePerBlobGas ?? 0n)
}

/** The next block's base fee and blob gas price, from the head (EIP-1559, EIP-4844/7918 as the fork has them). */
function nextFees (head: RpcBlock, rules: ReturnType<typeof rulesAt>): { baseFee: bigint, blobGasPrice?: bigint } {
  const common = makeCommon(rules)
  const header = createBlockHeader({
    number: BigInt(head.number),
    timestamp: BigInt(head.timestamp),
    gasLimit: BigInt(head.gasLimit),
    gasUsed: BigInt(head.gasUsed),
    baseFeePerGas: BigInt(head.baseFeePerGas ?? 0),
    excessBlobGas: BigInt(head.excessBlobGas ?? 0),
    blobGasUsed: BigInt(head.blobGasUsed ?? 0)
  }, { common, skipConsensusFormatValidation: true })
  let blobGasPrice: bigint | undefined
  try {
    blobGasPrice = common.isActivatedEIP(4844) ? header.calcNextBlobGasPrice(common) : undefined
  } catch {
    blobGasPrice = undefined
  }
  return { baseFee: header.calcNextBaseFee(), blobGasPrice }
}
