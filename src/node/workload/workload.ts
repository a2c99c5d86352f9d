/**
 * Signed transactions for load generation and tests: ETH transfers and ERC-20 (`Token`) deploy,
 * mint and transfer, from a set of funded keys, tracking each key's nonce locally.
 */
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { Address, bigIntToBytes, bytesToHex, createContractAddress, hexToBytes, privateToAddress, setLengthLeft } from '@ethereumjs/util'
import { TOKEN_CREATION_CODE } from './token-bytecode.ts'
import type { Common } from '@ethereumjs/common'

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
}
