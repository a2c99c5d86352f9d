/**
 * Transaction ingestion: decode EIP-2718 bytes defensively and recover the sender once. Anything that
 * cannot run is excluded with a reason, never thrown. `TxDecoder` remembers outcomes by transaction
 * hash, per chain rules: a node decodes a transaction when it arrives, and every simulation of a slot
 * that holds it (and the next slot's, if it is not included) finds it decoded, sender recovered.
 */
import { createTxFromRLP } from '@ethereumjs/tx'
import { LRUCache } from 'lru-cache'
import { toHex } from '../proto/index.ts'
import { keccak256, makeCommon, rulesKey } from './chain-rules.ts'
import type { ChainRules } from './chain-rules.ts'
import type { Common } from '@ethereumjs/common'
import type { TypedTransaction } from '@ethereumjs/tx'

/** EIP-7825: no transaction may use more gas than this */
export const MAX_TX_GAS = 16_777_216n

export interface DecodedTx {
  raw: Uint8Array
  tx: TypedTransaction
  hash: string
  sender: string
  nonce: bigint
}

/** why a transaction did not decode, for callers that answer in their own words (ingestion: geth's) */
export type DecodeFailure = 'empty' | 'malformed' | 'type-not-supported' | 'gas-cap' | 'chain-id' | 'signature'

export type DecodeOutcome = { ok: true, value: DecodedTx } | { ok: false, hash: string, reason: string, code: DecodeFailure }

export function decodeTransaction (raw: Uint8Array, common: Common, keccak: (b: Uint8Array) => Uint8Array): DecodeOutcome {
  const hash = `0x${toHex(keccak(raw))}`
  if (raw.length === 0) {
    return { ok: false, hash, code: 'empty', reason: 'empty transaction bytes' }
  }
  // ethereumjs throws inside the constructor for a gas limit over the EIP-7825 cap; read it first so
  // the reason says so
  let tx: TypedTransaction
  try {
    tx = createTxFromRLP(raw, { common })
  } catch (err) {
    const message = (err as Error).message
    if (/7825|gas limit.*cap|exceeds.*maximum/i.test(message)) {
      return { ok: false, hash, code: 'gas-cap', reason: `gas limit over the EIP-7825 cap of ${MAX_TX_GAS}` }
    }
    if (/chain ?id/i.test(message)) {
      return { ok: false, hash, code: 'chain-id', reason: `wrong chain id (this chain is ${common.chainId()})` }
    }
    // a type byte this fork has no transaction for (0x7f and below are EIP-2718 types; above, legacy RLP)
    const code = raw[0] <= 0x7f && /unknown|not supported|not activated|EIP-\d+ not/i.test(message) ? 'type-not-supported' : 'malformed'
    return { ok: false, hash, code, reason: `malformed transaction: ${message.split('\n')[0].slice(0, 200)}` }
  }
  if (tx.gasLimit > MAX_TX_GAS) {
    return { ok: false, hash, code: 'gas-cap', reason: `gas limit ${tx.gasLimit} over the EIP-7825 cap of ${MAX_TX_GAS}` }
  }
  if ('chainId' in tx && tx.chainId !== common.chainId()) {
    return { ok: false, hash, code: 'chain-id', reason: `wrong chain id ${tx.chainId} (this chain is ${common.chainId()})` }
  }
  let sender: string
  try {
    if (!tx.isSigned() || !tx.verifySignature()) {
      return { ok: false, hash, code: 'signature', reason: 'invalid signature' }
    }
    // kept as a key by the pool and the sender index: a flat string (see toHex)
    sender = `0x${toHex(tx.getSenderAddress().bytes)}`
  } catch (err) {
    return { ok: false, hash, code: 'signature', reason: `invalid signature: ${(err as Error).message.split('\n')[0]}` }
  }
  return { ok: true, value: { raw, tx, hash, sender, nonce: tx.nonce } }
}

/**
 * Decode outcomes by hash (the same bytes always decode the same way under the same rules), bounded:
 * the least recently used go first, and a holder that knows a transaction is done with (the pool,
 * once it is spent) forgets it sooner. Outcomes are shared: nothing downstream mutates a decoded
 * transaction (ethereumjs freezes them). A decoded transfer holds ~5.7 KB (measured, Node 24): 4,096
 * are 23 MB, a slot's worth at 2,000 transactions with the pool's next one behind it.
 */
export class TxDecoder {
  readonly common: Common
  readonly #outcomes: LRUCache<string, DecodeOutcome>

  constructor (rules: ChainRules, max = 4096) {
    this.common = makeCommon(rules)
    this.#outcomes = new LRUCache({ max })
  }

  has (hash: string): boolean {
    return this.#outcomes.has(hash)
  }

  /** `hash` as `decode` gives it (`0x`, lowercase) */
  forget (hash: string): void {
    this.#outcomes.delete(hash)
  }

  decode (raw: Uint8Array): DecodeOutcome {
    const hash = `0x${toHex(keccak256(raw))}`
    let outcome = this.#outcomes.get(hash)
    if (outcome == null) {
      outcome = decodeTransaction(raw, this.common, keccak256)
      this.#outcomes.set(hash, outcome)
    }
    return outcome
  }
}

const decoders = new Map<string, TxDecoder>()

/** Drops a transaction from every decoder of the process (`hash`: `0x`, lowercase). */
export function forgetDecoded (hash: string): void {
  for (const d of decoders.values()) { d.forget(hash) }
}

/** The process's decoder for these rules. */
export function txDecoder (rules: ChainRules): TxDecoder {
  const key = rulesKey(rules)
  let d = decoders.get(key)
  if (d == null) {
    d = new TxDecoder(rules)
    decoders.set(key, d)
  }
  return d
}
