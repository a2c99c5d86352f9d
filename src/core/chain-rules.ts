/**
 * The EVM rules a slot is simulated under: chain id and hardfork from the chain, and native crypto:
 * secp256k1 sender recovery (pure-JS recovery costs ~2 ms per transaction and dominates a slot) and
 * keccak-256 (transaction hashes, the receipts and transactions tries, KECCAK256: twice as fast as
 * the pure-JS one).
 */
import { paramsBlock } from '@ethereumjs/block'
import { createCustomCommon, Mainnet } from '@ethereumjs/common'
import secp256k1 from 'secp256k1'
import { keccak256 } from '../proto/index.ts'
import type { Common } from '@ethereumjs/common'

export interface ChainRules {
  chainId: number
  /** an `@ethereumjs/common` hardfork name, e.g. `bpo1` */
  hardfork: string
}

function recoveryId (v: bigint, chainId?: bigint): number {
  if (v === 0n || v === 1n) {
    return Number(v)
  }
  const rec = chainId === undefined ? v - 27n : v - (chainId * 2n + 35n)
  if (rec !== 0n && rec !== 1n) {
    throw new Error('Invalid signature v value')
  }
  return Number(rec)
}

function nativeEcrecover (msgHash: Uint8Array, v: bigint, r: Uint8Array, s: Uint8Array, chainId?: bigint): Uint8Array {
  const sig = new Uint8Array(64)
  sig.set(r.subarray(-32), 32 - Math.min(32, r.length))
  sig.set(s.subarray(-32), 64 - Math.min(32, s.length))
  return secp256k1.ecdsaRecover(sig, recoveryId(v, chainId), msgHash, false).subarray(1)
}

export { keccak256 }

/** A stable name for a set of rules: caches keyed by it never mix chains or forks. */
export function rulesKey (rules: ChainRules): string {
  return `${rules.chainId}/${rules.hardfork}`
}

export function makeCommon (rules: ChainRules): Common {
  // block parameters (blob gas schedule, base fee) are per-library in ethereumjs 10: the header
  // arithmetic below runs on this common, so it carries them
  return createCustomCommon({ chainId: rules.chainId }, Mainnet, {
    hardfork: rules.hardfork,
    params: paramsBlock,
    customCrypto: { ecrecover: nativeEcrecover, keccak256 }
  })
}
