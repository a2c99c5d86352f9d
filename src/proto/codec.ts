/**
 * The envelope of every atelier message: `WIRE_VERSION (1 byte) ‖ kind (1 byte) ‖ SSZ length (u32 LE)
 * ‖ SSZ bytes`. The kind byte lets a receiver reject a message sent on the wrong topic or stream
 * before decoding it; the length makes trailing bytes detectable (SSZ alone would fold them into the
 * last variable-size field).
 */
import { ContainerType } from '@chainsafe/ssz'
import { DecodeError } from './errors.ts'
import { MAX_MESSAGE_BYTES } from './limits.ts'
import * as T from './types.ts'
import { WIRE_VERSION } from './version.ts'
import type { Type } from '@chainsafe/ssz'

export const MessageKind = {
  HintBundle: 1,
  SimOutput: 2,
  Candidate: 3,
  RosterAnnounce: 4,
  PoolTransactions: 5,
  AuctionBid: 6,
  Equivocation: 7,
  OpenSlot: 16,
  AcceptHint: 17,
  SubmitSimulation: 18,
  SealCandidate: 19,
  MarkDone: 20
} as const

export type MessageKindName = keyof typeof MessageKind
export type MessageKindCode = typeof MessageKind[MessageKindName]

export const MESSAGE_TYPES = {
  HintBundle: T.HintBundle,
  SimOutput: T.SimOutput,
  Candidate: T.Candidate,
  RosterAnnounce: T.RosterAnnounce,
  PoolTransactions: T.PoolTransactions,
  AuctionBid: T.AuctionBid,
  Equivocation: T.Equivocation,
  OpenSlot: T.OpenSlot,
  AcceptHint: T.HintAccept,
  SubmitSimulation: T.SimOutput,
  SealCandidate: T.SealCommit,
  MarkDone: T.MarkDone
} as const

export interface MessageValues {
  HintBundle: T.HintBundleValue
  SimOutput: T.SimOutputValue
  Candidate: T.CandidateValue
  RosterAnnounce: T.RosterAnnounceValue
  PoolTransactions: T.PoolTransactionsValue
  AuctionBid: T.AuctionBidValue
  Equivocation: T.EquivocationValue
  OpenSlot: T.OpenSlotValue
  AcceptHint: T.HintAcceptValue
  SubmitSimulation: T.SimOutputValue
  SealCandidate: T.SealCommitValue
  MarkDone: T.MarkDoneValue
}

const HEADER_BYTES = 6
const NAME_BY_CODE = new Map<number, MessageKindName>(
  Object.entries(MessageKind).map(([name, code]) => [code, name as MessageKindName])
)

function sszType (kind: MessageKindName): Type<unknown> {
  return MESSAGE_TYPES[kind] as unknown as Type<unknown>
}

export function encodeMessage<K extends MessageKindName> (kind: K, value: MessageValues[K]): Uint8Array {
  const body = sszType(kind).serialize(value)
  const out = new Uint8Array(HEADER_BYTES + body.length)
  out[0] = WIRE_VERSION
  out[1] = MessageKind[kind]
  new DataView(out.buffer).setUint32(2, body.length, true)
  out.set(body, HEADER_BYTES)
  return out
}

/** Reads the envelope only: which kind of message these bytes claim to be. */
export function peekKind (bytes: Uint8Array): MessageKindName {
  if (bytes.length > MAX_MESSAGE_BYTES) {
    throw new DecodeError('message', `${bytes.length} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte maximum`)
  }
  if (bytes.length < 2) {
    throw new DecodeError('version', `message of ${bytes.length} bytes has no envelope`)
  }
  if (bytes[0] !== WIRE_VERSION) {
    throw new DecodeError('version', `unknown wire version ${bytes[0]} (this node speaks ${WIRE_VERSION})`)
  }
  const name = NAME_BY_CODE.get(bytes[1])
  if (name == null) {
    throw new DecodeError('kind', `unknown message kind ${bytes[1]}`)
  }
  if (bytes.length < HEADER_BYTES) {
    throw new DecodeError('length', `message of ${bytes.length} bytes has no length field`)
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(2, true)
  if (length !== bytes.length - HEADER_BYTES) {
    throw new DecodeError('length', `envelope says ${length} bytes, message carries ${bytes.length - HEADER_BYTES}${length < bytes.length - HEADER_BYTES ? ' (trailing bytes)' : ''}`)
  }
  return name
}

export function decodeMessage<K extends MessageKindName> (kind: K, bytes: Uint8Array): MessageValues[K] {
  const found = peekKind(bytes)
  if (found !== kind) {
    throw new DecodeError('kind', `expected ${kind}, got ${found}`)
  }
  return decodeCanonical(kind, bytes) as MessageValues[K]
}

export function decodeAnyMessage (bytes: Uint8Array): { [K in MessageKindName]: { kind: K, value: MessageValues[K] } }[MessageKindName] {
  const kind = peekKind(bytes)
  return { kind, value: decodeCanonical(kind, bytes) } as never
}

/**
 * SSZ has exactly one encoding per value; bytes that decode but do not re-encode to themselves carry
 * trailing or smuggled data and are refused.
 */
function decodeCanonical (kind: MessageKindName, bytes: Uint8Array): unknown {
  const type = sszType(kind)
  const body = bytes.subarray(HEADER_BYTES)
  const value = decodeSsz(type, body, kind)
  const again = type.serialize(value)
  if (again.length !== body.length || !again.every((b, i) => b === body[i])) {
    throw new DecodeError(kind, `trailing or non-canonical bytes (${body.length} bytes, canonical ${again.length})`)
  }
  return value
}

/**
 * SSZ-decodes `bytes` as `type`; on failure walks the container to name the innermost field whose
 * bytes are wrong (SSZ's own errors do not say which field).
 */
export function decodeSsz<V> (type: Type<V>, bytes: Uint8Array, path: string): V {
  try {
    return type.deserialize(bytes)
  } catch (err) {
    throw locateFailure(type as Type<unknown>, bytes, path, err)
  }
}

function locateFailure (type: Type<unknown>, bytes: Uint8Array, path: string, cause: unknown): DecodeError {
  const message = cause instanceof Error ? cause.message : String(cause)
  if (!(type instanceof ContainerType)) {
    return listFailure(type, bytes, path) ?? new DecodeError(path, message)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let ranges: Array<{ start: number, end: number }>
  try {
    ranges = type.getFieldRanges(view, 0, bytes.length)
  } catch (err) {
    return new DecodeError(path, err instanceof Error ? err.message : String(err))
  }
  const names = Object.keys(type.fields)
  for (let i = 0; i < names.length; i++) {
    const fieldType = type.fields[names[i]] as Type<unknown>
    const slice = bytes.subarray(ranges[i].start, ranges[i].end)
    try {
      fieldType.deserialize(slice)
    } catch (err) {
      return locateFailure(fieldType, slice, `${path}.${names[i]}`, err)
    }
  }
  return new DecodeError(path, message)
}

/** Names a list that is over its limit, or the list element that does not decode. */
function listFailure (type: Type<unknown>, bytes: Uint8Array, path: string): DecodeError | undefined {
  const t = type as unknown as { limit?: number, limitBytes?: number, elementType?: Type<unknown> }
  if (t.limitBytes != null && bytes.length > t.limitBytes) {
    return new DecodeError(path, `${bytes.length} bytes exceeds the limit of ${t.limitBytes}`)
  }
  if (t.limit == null || t.elementType == null) {
    return undefined
  }
  const elementType = t.elementType
  if (elementType.fixedSize != null) {
    const count = Math.floor(bytes.length / elementType.fixedSize)
    if (count > t.limit) {
      return new DecodeError(path, `${count} elements exceeds the limit of ${t.limit}`)
    }
    return undefined
  }
  if (bytes.length >= 4) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const count = view.getUint32(0, true) / 4
    if (count > t.limit) {
      return new DecodeError(path, `${count} elements exceeds the limit of ${t.limit}`)
    }
    for (let i = 0; i < count; i++) {
      const start = view.getUint32(i * 4, true)
      const end = i + 1 < count ? view.getUint32((i + 1) * 4, true) : bytes.length
      if (start > end || end > bytes.length) {
        return new DecodeError(`${path}[${i}]`, `offset ${start}..${end} out of bounds`)
      }
      try {
        elementType.deserialize(bytes.subarray(start, end))
      } catch (err) {
        return locateFailure(elementType, bytes.subarray(start, end), `${path}[${i}]`, err)
      }
    }
  }
  return undefined
}
