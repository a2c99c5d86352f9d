/**
 * Transaction ingestion: decode EIP-2718 bytes defensively and recover the sender once. Anything that
 * cannot run is excluded with a reason, never thrown.
 */
import { createTxFromRLP } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
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

export type DecodeOutcome = { ok: true, value: DecodedTx } | { ok: false, hash: string, reason: string }

export function decodeTransaction (raw: Uint8Array, common: Common, keccak: (b: Uint8Array) => Uint8Array): DecodeOutcome {
  const hash = bytesToHex(keccak(raw))
  if (raw.length === 0) {
    return { ok: false, hash, reason: 'empty transaction bytes' }
  }
  // ethereumjs throws inside the constructor for a gas limit over the EIP-7825 cap; read it first so
  // the reason says so
  let tx: TypedTransaction
  try {
    tx = createTxFromRLP(raw, { common })
  } catch (err) {
    const message = (err as Error).message
    if (/7825|gas limit.*cap|exceeds.*maximum/i.test(message)) {
      return { ok: false, hash, reason: `gas limit over the EIP-7825 cap of ${MAX_TX_GAS}` }
    }
    if (/chain ?id/i.test(message)) {
      return { ok: false, hash, reason: `wrong chain id (this chain is ${common.chainId()})` }
    }
    return { ok: false, hash, reason: `malformed transaction: ${message.split('\n')[0].slice(0, 200)}` }
  }
  if (tx.gasLimit > MAX_TX_GAS) {
    return { ok: false, hash, reason: `gas limit ${tx.gasLimit} over the EIP-7825 cap of ${MAX_TX_GAS}` }
  }
  if ('chainId' in tx && tx.chainId !== common.chainId()) {
    return { ok: false, hash, reason: `wrong chain id ${tx.chainId} (this chain is ${common.chainId()})` }
  }
  let sender: string
  try {
    if (!tx.isSigned() || !tx.verifySignature()) {
      return { ok: false, hash, reason: 'invalid signature' }
    }
    sender = tx.getSenderAddress().toString()
  } catch (err) {
    return { ok: false, hash, reason: `invalid signature: ${(err as Error).message.split('\n')[0]}` }
  }
  return { ok: true, value: { raw, tx, hash, sender, nonce: tx.nonce } }
}
