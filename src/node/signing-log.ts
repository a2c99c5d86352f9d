/**
 * The signing record as an append-only file of 40-byte records (slot u64 big-endian ‖ root), each
 * flushed to disk (fdatasync) before the signature exists. Written synchronously on the event loop:
 * ~0.1 ms here, where a synced LevelDB put waited 10–70 ms for a thread-pool thread on a loaded
 * machine, on the path from simulation to signature.
 *
 * A crash can leave a torn last record; it was never flushed, so its signature never left the
 * signer: the tail is cut on open.
 */
import { closeSync, existsSync, fdatasyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs'
import type { SigningRecord } from '../machine/index.ts'

const RECORD_BYTES = 40

export class SigningLog implements SigningRecord {
  readonly path: string
  readonly #roots = new Map<number, Uint8Array>()
  #fd: number | undefined

  private constructor (path: string) {
    this.path = path
  }

  /** Opens (or creates) the log; `legacy` records are imported once, into a new log. */
  static open (path: string, legacy: Array<{ slot: number, root: Uint8Array }> = []): SigningLog {
    const log = new SigningLog(path)
    const fresh = !existsSync(path)
    const bytes = fresh ? new Uint8Array(0) : new Uint8Array(readFileSync(path))
    const whole = bytes.length - (bytes.length % RECORD_BYTES)
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    for (let at = 0; at < whole; at += RECORD_BYTES) {
      const slot = Number(view.getBigUint64(at))
      if (!log.#roots.has(slot)) {
        log.#roots.set(slot, bytes.slice(at + 8, at + RECORD_BYTES))
      }
    }
    log.#fd = openSync(path, 'a')
    if (whole !== bytes.length) {
      ftruncateSync(log.#fd, whole)
    }
    if (fresh) {
      for (const { slot, root } of legacy) {
        log.#append(slot, root)
      }
    }
    return log
  }

  /** Every whole record in the file at `path`, in file order, repeats included (for audits). */
  static records (path: string): Array<{ slot: number, root: Uint8Array }> {
    if (!existsSync(path)) { return [] }
    const bytes = new Uint8Array(readFileSync(path))
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const out: Array<{ slot: number, root: Uint8Array }> = []
    for (let at = 0; at + RECORD_BYTES <= bytes.length; at += RECORD_BYTES) {
      out.push({ slot: Number(view.getBigUint64(at)), root: bytes.slice(at + 8, at + RECORD_BYTES) })
    }
    return out
  }

  async get (slot: number): Promise<Uint8Array | undefined> {
    return this.#roots.get(slot)
  }

  async put (slot: number, root: Uint8Array): Promise<void> {
    this.#append(slot, root)
  }

  close (): void {
    if (this.#fd != null) {
      closeSync(this.#fd)
      this.#fd = undefined
    }
  }

  #append (slot: number, root: Uint8Array): void {
    if (this.#fd == null) {
      throw new Error(`signing record ${this.path} is closed`)
    }
    if (root.length !== 32) {
      throw new RangeError(`a signing root is 32 bytes, got ${root.length}`)
    }
    if (this.#roots.has(slot)) {
      return
    }
    const record = new Uint8Array(RECORD_BYTES)
    new DataView(record.buffer).setBigUint64(0, BigInt(slot))
    record.set(root, 8)
    writeSync(this.#fd, record)
    fdatasyncSync(this.#fd)
    this.#roots.set(slot, root.slice())
  }
}
