import { blake3 } from '@noble/hashes/blake3.js'
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'

const HEX64 = /^[0-9a-fA-F]{64}$/

/** A 32-byte identifier, derived by hashing names (mosaik's vocabulary). */
export class UniqueId {
  readonly bytes: Uint8Array

  private constructor (bytes: Uint8Array) {
    this.bytes = bytes
  }

  /** The bytes of `s` when it is exactly 64 hex characters, otherwise `blake3(utf8(s))`. */
  static from (s: string): UniqueId {
    return new UniqueId(HEX64.test(s) ? hexToBytes(s) : blake3(utf8ToBytes(s)))
  }

  static fromBytes (bytes: Uint8Array): UniqueId {
    if (bytes.length !== 32) {
      throw new RangeError(`a UniqueId is 32 bytes, got ${bytes.length}`)
    }
    return new UniqueId(Uint8Array.from(bytes))
  }

  /** `blake3(id ‖ utf8(name))`, no separator; deriving from another id appends its 32 bytes. */
  derive (name: string | UniqueId): UniqueId {
    const suffix = typeof name === 'string' ? utf8ToBytes(name) : name.bytes
    const buf = new Uint8Array(32 + suffix.length)
    buf.set(this.bytes)
    buf.set(suffix, 32)
    return new UniqueId(blake3(buf))
  }

  equals (other: UniqueId): boolean {
    return this.bytes.every((b, i) => b === other.bytes[i])
  }

  toString (): string {
    return bytesToHex(this.bytes)
  }
}
