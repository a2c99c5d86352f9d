import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { compare } from 'uint8arrays/compare'
import { concat } from 'uint8arrays/concat'
import { equals } from 'uint8arrays/equals'

/** Same length, same bytes. */
export const equalBytes: (a: Uint8Array, b: Uint8Array) => boolean = equals

/** Lowercase hex without `0x`. */
export function toHex (bytes: Uint8Array): string {
  return bytesToHex(bytes)
}

/** Accepts hex with or without `0x`; throws on odd length or non-hex characters. */
export function fromHex (hex: string): Uint8Array {
  return hexToBytes(hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex)
}

/**
 * The parts, one after the other, in a new array. On Node it may be a view into Buffer's shared pool:
 * whoever reads its `.buffer` must use its `byteOffset`.
 */
export const concatBytes = (...parts: Uint8Array[]): Uint8Array => concat(parts)

/** Bytewise lexicographic order, shorter first on a common prefix: negative, zero or positive, for `sort`. */
export const compareBytes: (a: Uint8Array, b: Uint8Array) => number = compare
