/**
 * Frames of the attestation exchange that runs inside a fresh Noise channel. SSZ, bounded: a peer
 * cannot make us buffer more than MAX_FRAME_BYTES per frame.
 */
import { BooleanType, ByteListType, ContainerType, UintNumberType } from '@chainsafe/ssz'
import { decodeSsz } from '../proto/index.ts'
import type { Evidence } from '../enclave/index.ts'

export const MAX_FRAME_BYTES = 128 * 1024

const EvidenceFrame = new ContainerType({
  /** 1 = tdx (quote + collateral + operator JWT), 2 = jwt */
  kind: new UintNumberType(1),
  quote: new ByteListType(16 * 1024),
  collateral: new ByteListType(96 * 1024),
  jwt: new ByteListType(8 * 1024)
}, { typeName: 'EvidenceFrame' })

const VerdictFrame = new ContainerType({
  accepted: new BooleanType(),
  /** generic on purpose: the precise reason stays in the local log */
  reason: new ByteListType(256)
}, { typeName: 'VerdictFrame' })

const text = new TextEncoder()
const untext = new TextDecoder()

export function encodeEvidence (e: Evidence): Uint8Array {
  if (e.kind === 'tdx') {
    return EvidenceFrame.serialize({ kind: 1, quote: e.quote, collateral: text.encode(JSON.stringify(e.collateral)), jwt: text.encode(e.operatorJwt) })
  }
  return EvidenceFrame.serialize({ kind: 2, quote: new Uint8Array(0), collateral: new Uint8Array(0), jwt: text.encode(e.jwt) })
}

/** Throws DecodeError (bad SSZ) or SyntaxError (bad collateral JSON); the caller treats both as junk. */
export function decodeEvidence (bytes: Uint8Array): Evidence {
  const f = decodeSsz(EvidenceFrame, bytes, 'EvidenceFrame')
  if (f.kind === 1) {
    return { kind: 'tdx', quote: f.quote, collateral: JSON.parse(untext.decode(f.collateral)), operatorJwt: untext.decode(f.jwt) }
  }
  if (f.kind === 2) {
    return { kind: 'jwt', jwt: untext.decode(f.jwt) }
  }
  throw new SyntaxError(`unknown evidence kind ${f.kind}`)
}

export function encodeVerdict (accepted: boolean, reason = ''): Uint8Array {
  return VerdictFrame.serialize({ accepted, reason: text.encode(reason.slice(0, 256)) })
}

export function decodeVerdict (bytes: Uint8Array): { accepted: boolean, reason: string } {
  const v = decodeSsz(VerdictFrame, bytes, 'VerdictFrame')
  return { accepted: v.accepted, reason: untext.decode(v.reason) }
}
