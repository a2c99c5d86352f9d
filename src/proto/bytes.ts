import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'

export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

/** Lowercase hex without `0x`. */
export function toHex (bytes: Uint8Array): string {
  return bytesToHex(bytes)
}

/** Accepts hex with or without `0x`; throws on odd length or non-hex characters. */
export function fromHex (hex: string): Uint8Array {
  return hexToBytes(hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex)
}

export function concatBytes (...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Bytewise lexicographic order, shorter first on a common prefix. */
export function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      return a[i] - b[i]
    }
  }
  return a.length - b.length
}
