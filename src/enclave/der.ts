/** The few DER encoders the software test TD needs for Intel's SGX certificate extension. */
import { concatBytes } from '../proto/index.ts'

function length (n: number): Uint8Array {
  if (n < 0x80) {
    return Uint8Array.of(n)
  }
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) {
    bytes.unshift(v & 0xff)
  }
  return Uint8Array.of(0x80 | bytes.length, ...bytes)
}

export function tlv (tag: number, content: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(tag), length(content.length), content)
}

export const sequence = (...items: Uint8Array[]): Uint8Array => tlv(0x30, concatBytes(...items))
export const octetString = (bytes: Uint8Array): Uint8Array => tlv(0x04, bytes)

function unsigned (n: number): Uint8Array {
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) {
    bytes.unshift(v & 0xff)
  }
  if (bytes.length === 0 || bytes[0] >= 0x80) {
    bytes.unshift(0)
  }
  return Uint8Array.from(bytes)
}

export const integer = (n: number): Uint8Array => tlv(0x02, unsigned(n))
export const enumerated = (n: number): Uint8Array => tlv(0x0a, unsigned(n))

export function objectId (dotted: string): Uint8Array {
  const parts = dotted.split('.').map(Number)
  const out: number[] = [parts[0] * 40 + parts[1]]
  for (const part of parts.slice(2)) {
    const groups: number[] = []
    let v = part
    do {
      groups.unshift(v & 0x7f)
      v = Math.floor(v / 128)
    } while (v > 0)
    out.push(...groups.map((g, i) => i < groups.length - 1 ? g | 0x80 : g))
  }
  return tlv(0x06, Uint8Array.from(out))
}
