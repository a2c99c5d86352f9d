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
import { lazyKzg } from './kzg.ts'
import type { Common } from '@ethereumjs/common'

/** The rules at one instant: the chain and the fork in force. */
export interface ChainRules {
  chainId: number
  /** an `@ethereumjs/common` hardfork name, e.g. `bpo1` */
  hardfork: string
}

export interface ForkActivation {
  name: string
  /** unix seconds from which the fork applies (the first fork's is 0: from genesis) */
  timestamp: number
  blob?: { target: number, max: number, baseFeeUpdateFraction: number }
}

/** A chain's rules over time: a committee crossing a fork switches rules at its exact timestamp. */
export interface ForkSchedule {
  chainId: number
  forks: ForkActivation[]
}

/** The rules in force at `timestamp`: the last fork activated at or before it. */
export function rulesAt (rules: ChainRules | ForkSchedule, timestamp: bigint | number): ChainRules {
  if ('hardfork' in rules) { return rules }
  const t = Number(timestamp)
  let fork = rules.forks[0]
  for (const f of rules.forks) {
    if (f.timestamp <= t) { fork = f }
  }
  return { chainId: rules.chainId, hardfork: fork.name }
}

/** One blob's gas (EIP-4844). */
export const GAS_PER_BLOB = 131_072n

/** The blob parameters the EVM runs under `common`'s fork (counts of blobs per block). */
export function blobParameters (common: Common): { target: number, max: number, baseFeeUpdateFraction: number } {
  // EIP-7892 (BPO) forks state blob counts; earlier ones, blob gas
  const count = (bpo: string, gas: string): number => {
    try { return Number(common.param(bpo)) } catch { return Number(common.param(gas) / GAS_PER_BLOB) }
  }
  return {
    target: count('target', 'targetBlobGasPerBlock'),
    max: count('max', 'maxBlobGasPerBlock'),
    baseFeeUpdateFraction: Number(common.param('blobGasPriceUpdateFraction'))
  }
}

/**
 * Where a pinned fork's blob parameters differ from what the EVM runs for that fork: a committee that
 * pinned other numbers than its EVM computes with would build blocks its chain rejects.
 */
export function blobParameterMismatch (chainId: number, fork: ForkActivation): string | undefined {
  if (fork.blob == null) { return undefined }
  const actual = blobParameters(makeCommon({ chainId, hardfork: fork.name }))
  const wrong = (['target', 'max', 'baseFeeUpdateFraction'] as const).filter(k => actual[k] !== fork.blob?.[k])
  return wrong.length === 0 ? undefined : `${fork.name}: the config pins ${wrong.map(k => `${k} ${fork.blob?.[k]}`).join(', ')}; the EVM runs ${wrong.map(k => `${k} ${actual[k]}`).join(', ')}`
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
    customCrypto: { ecrecover: nativeEcrecover, keccak256, kzg: lazyKzg }
  })
}
