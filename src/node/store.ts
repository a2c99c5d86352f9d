/**
 * The member's embedded store (LevelDB through classic-level, as Lodestar): sealed candidates by slot,
 * the command log, equivocation evidence (by slot, member and kind) and small metadata; the signing record has a file of its own (signing-log.ts). Slot
 * keys are big-endian so LevelDB's byte order is slot order and range reads serve sync requests
 * directly.
 */
import { ClassicLevel } from 'classic-level'
import { decodeMessage, encodeMessage } from '../proto/index.ts'
import type { CandidateValue, EquivocationValue } from '../proto/index.ts'

type Db = ClassicLevel<Uint8Array, Uint8Array>

const PREFIX = { candidate: 0x01, signing: 0x02, meta: 0x03, command: 0x04, evidence: 0x05 } as const

function slotKey (prefix: number, slot: number): Uint8Array {
  const key = new Uint8Array(9)
  key[0] = prefix
  new DataView(key.buffer).setBigUint64(1, BigInt(slot))
  return key
}

function slotOf (key: Uint8Array): number {
  return Number(new DataView(key.buffer, key.byteOffset, key.byteLength).getBigUint64(1))
}

export class NodeStore {
  readonly db: Db

  private constructor (db: Db) {
    this.db = db
  }

  static async open (dir: string): Promise<NodeStore> {
    const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
    await db.open()
    return new NodeStore(db)
  }

  async close (): Promise<void> {
    await this.db.close()
  }

  /** Stores a sealed candidate; a slot keeps its first candidate (returns false for any other). */
  async putCandidate (candidate: CandidateValue): Promise<boolean> {
    const key = slotKey(PREFIX.candidate, candidate.slot)
    if (await this.db.get(key) !== undefined) {
      return false
    }
    await this.db.put(key, encodeMessage('Candidate', candidate), { sync: true })
    return true
  }

  async getCandidate (slot: number): Promise<CandidateValue | undefined> {
    const bytes = await this.db.get(slotKey(PREFIX.candidate, slot))
    return bytes == null ? undefined : decodeMessage('Candidate', bytes)
  }

  /** Encoded candidates with from ≤ slot ≤ to, in slot order, at most `limit`. */
  async candidateRange (from: number, to: number, limit: number): Promise<Array<{ slot: number, bytes: Uint8Array }>> {
    const out: Array<{ slot: number, bytes: Uint8Array }> = []
    for await (const [key, value] of this.db.iterator({ gte: slotKey(PREFIX.candidate, from), lte: slotKey(PREFIX.candidate, to), limit })) {
      out.push({ slot: slotOf(key), bytes: value })
    }
    return out
  }

  /** The slots from..to that have a candidate (keys only: no candidate is read). */
  async candidateSlots (from: number, to: number): Promise<number[]> {
    const out: number[] = []
    for await (const key of this.db.keys({ gte: slotKey(PREFIX.candidate, from), lte: slotKey(PREFIX.candidate, to) })) {
      out.push(slotOf(key))
    }
    return out
  }

  async latestCandidateSlot (): Promise<number | undefined> {
    const [key] = await this.db.keys({ gte: slotKey(PREFIX.candidate, 0), lt: Uint8Array.of(PREFIX.candidate + 1), reverse: true, limit: 1 }).all()
    return key == null ? undefined : slotOf(key)
  }

  /** Signing records of stores from before the signing log (imported into a new log once). */
  async legacySigningRecords (): Promise<Array<{ slot: number, root: Uint8Array }>> {
    const out: Array<{ slot: number, root: Uint8Array }> = []
    for await (const [key, value] of this.db.iterator({ gte: slotKey(PREFIX.signing, 0), lt: Uint8Array.of(PREFIX.signing + 1) })) {
      out.push({ slot: slotOf(key), root: value })
    }
    return out
  }

  /**
   * The machine's command log for slots not yet done: replayed on restart so an in-flight slot
   * resumes where it was (encoded messages, in apply order).
   */
  async appendCommand (slot: number, seq: number, message: Uint8Array): Promise<void> {
    await this.db.put(commandKey(slot, seq), message)
  }

  async commands (): Promise<Array<{ slot: number, seq: number, message: Uint8Array }>> {
    const out: Array<{ slot: number, seq: number, message: Uint8Array }> = []
    for await (const [key, value] of this.db.iterator({ gte: commandKey(0, 0), lt: Uint8Array.of(PREFIX.command + 1) })) {
      out.push({ slot: slotOf(key), seq: new DataView(key.buffer, key.byteOffset, key.byteLength).getUint32(9), message: value })
    }
    return out
  }

  async dropCommands (slot: number): Promise<void> {
    await this.db.clear({ gte: commandKey(slot, 0), lte: commandKey(slot, 0xffffffff) })
  }

  /** Keeps evidence (durably: it outlives the member's slots); false if this slot, member and kind has some. */
  async putEvidence (e: EquivocationValue): Promise<boolean> {
    const key = evidenceKey(e.slot, e.member, e.kind)
    if (await this.db.get(key) != null) { return false }
    await this.db.put(key, encodeMessage('Equivocation', e), { sync: true })
    return true
  }

  /** Every piece of evidence held, in slot order. */
  async evidence (): Promise<EquivocationValue[]> {
    const out: EquivocationValue[] = []
    for await (const value of this.db.values({ gte: Uint8Array.of(PREFIX.evidence), lt: Uint8Array.of(PREFIX.evidence + 1) })) {
      out.push(decodeMessage('Equivocation', value))
    }
    return out
  }

  async getMeta (name: string): Promise<string | undefined> {
    const value = await this.db.get(metaKey(name))
    return value == null ? undefined : new TextDecoder().decode(value)
  }

  async putMeta (name: string, value: string): Promise<void> {
    await this.db.put(metaKey(name), new TextEncoder().encode(value), { sync: true })
  }
}

function commandKey (slot: number, seq: number): Uint8Array {
  const key = new Uint8Array(13)
  key.set(slotKey(PREFIX.command, slot))
  new DataView(key.buffer).setUint32(9, seq)
  return key
}

function evidenceKey (slot: number, member: number, kind: number): Uint8Array {
  const key = new Uint8Array(12)
  key.set(slotKey(PREFIX.evidence, slot))
  new DataView(key.buffer).setUint16(9, member)
  key[11] = kind
  return key
}

function metaKey (name: string): Uint8Array {
  const bytes = new TextEncoder().encode(name)
  const key = new Uint8Array(bytes.length + 1)
  key[0] = PREFIX.meta
  key.set(bytes, 1)
  return key
}
