/**
 * Signed transactions for load generation and tests: ETH transfers, ERC-20 (`Token`) deploy, mint and
 * transfer, and blob transactions in their network form, from a set of funded keys, tracking each
 * key's nonce locally.
 */
import { createBlob4844Tx, createFeeMarket1559Tx } from '@ethereumjs/tx'
import { Address, bigIntToBytes, blobsToCellProofs, blobsToCommitments, bytesToHex, commitmentsToVersionedHashes, createContractAddress, getBlobs, hexToBytes, privateToAddress, setLengthLeft } from '@ethereumjs/util'
import { TOKEN_CREATION_CODE } from './token-bytecode.ts'
import type { Common } from '@ethereumjs/common'
import type { PrefixedHexString } from '@ethereumjs/util'

const SELECTOR = {
  mint: '40c10f19',
  transfer: 'a9059cbb',
  balanceOf: '70a08231'
} as const

export interface FeeOptions {
  maxFeePerGas?: bigint
  maxPriorityFeePerGas?: bigint
  gasLimit?: bigint
}

export function tokenCall (fn: 'mint' | 'transfer', to: string, amount: bigint): Uint8Array {
  return hexToBytes(`0x${SELECTOR[fn]}${bytesToHex(setLengthLeft(hexToBytes(to as `0x${string}`), 32)).slice(2)}${bytesToHex(setLengthLeft(bigIntToBytes(amount), 32)).slice(2)}`)
}

export function balanceOfCall (owner: string): string {
  return `0x${SELECTOR.balanceOf}${bytesToHex(setLengthLeft(hexToBytes(owner as `0x${string}`), 32)).slice(2)}`
}

/** Blobs with their commitments, cell proofs and versioned hashes, as a blob transaction carries them. */
export interface BlobData {
  blobs: PrefixedHexString[]
  kzgCommitments: PrefixedHexString[]
  kzgProofs: PrefixedHexString[]
  blobVersionedHashes: PrefixedHexString[]
}

/**
 * `text` as blobs with their KZG data (EIP-7594 cell proofs). Computing the proofs takes about 4 s a
 * blob with the pure-JS KZG, so a load computes its blobs once and sends them again and again.
 */
export function blobData (common: Common, text: string): BlobData {
  const kzg = common.customCrypto.kzg
  if (kzg == null) { throw new Error('blob transactions need a common with KZG') }
  const blobs = getBlobs(text)
  const kzgCommitments = blobsToCommitments(kzg, blobs)
  return { blobs, kzgCommitments, kzgProofs: blobsToCellProofs(kzg, blobs), blobVersionedHashes: commitmentsToVersionedHashes(kzgCommitments) }
}

export class Workload {
  readonly common: Common
  readonly keys: Uint8Array[]
  readonly addresses: string[]
  readonly nonces: bigint[]

  constructor (common: Common, keys: Array<Uint8Array | string>, nonces?: bigint[]) {
    this.common = common
    this.keys = keys.map(k => typeof k === 'string' ? hexToBytes(k as `0x${string}`) : k)
    this.addresses = this.keys.map(k => new Address(privateToAddress(k)).toString())
    this.nonces = nonces ?? this.keys.map(() => 0n)
  }

  #sign (from: number, to: string | undefined, value: bigint, data: Uint8Array, fees: FeeOptions, defaultGas: bigint): Uint8Array {
    const nonce = this.nonces[from]++
    const tx = createFeeMarket1559Tx({
      chainId: this.common.chainId(),
      nonce,
      to: to as `0x${string}` | undefined,
      value,
      data,
      gasLimit: fees.gasLimit ?? defaultGas,
      maxFeePerGas: fees.maxFeePerGas ?? 100_000_000_000n,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas ?? 1_000_000_000n
    }, { common: this.common }).sign(this.keys[from])
    return tx.serialize()
  }

  ethTransfer (from: number, to: string, value: bigint, fees: FeeOptions = {}): Uint8Array {
    return this.#sign(from, to, value, new Uint8Array(0), fees, 21_000n)
  }

  /** Deploys a Token; returns the raw transaction and the contract's address. */
  deployToken (from: number, fees: FeeOptions = {}): { raw: Uint8Array, address: string } {
    const nonce = this.nonces[from]
    const address = createContractAddress(new Address(hexToBytes(this.addresses[from] as `0x${string}`)), nonce).toString()
    return { raw: this.#sign(from, undefined, 0n, hexToBytes(TOKEN_CREATION_CODE), fees, 400_000n), address }
  }

  mint (from: number, token: string, to: string, amount: bigint, fees: FeeOptions = {}): Uint8Array {
    return this.#sign(from, token, 0n, tokenCall('mint', to, amount), fees, 80_000n)
  }

  tokenTransfer (from: number, token: string, to: string, amount: bigint, fees: FeeOptions = {}): Uint8Array {
    return this.#sign(from, token, 0n, tokenCall('transfer', to, amount), fees, 80_000n)
  }

  /** A type-3 transaction carrying `blobs`: its network form (what a user submits) and its canonical form. */
  blobTransfer (from: number, to: string, blobs: BlobData, fees: FeeOptions & { maxFeePerBlobGas?: bigint } = {}): { network: Uint8Array, canonical: Uint8Array } {
    const tx = createBlob4844Tx({
      chainId: this.common.chainId(),
      nonce: this.nonces[from]++,
      to: to as `0x${string}`,
      value: 0n,
      gasLimit: fees.gasLimit ?? 21_000n,
      maxFeePerGas: fees.maxFeePerGas ?? 100_000_000_000n,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas ?? 1_000_000_000n,
      maxFeePerBlobGas: fees.maxFeePerBlobGas ?? 10_000_000_000n,
      ...blobs
    }, { common: this.common }).sign(this.keys[from])
    return { network: tx.serializeNetworkWrapper(), canonical: tx.serialize() }
  }
}
