import { readFileSync } from 'node:fs'
import { expect } from 'aegir/chai'
import {
  DecodeError, decodeAnyMessage, decodeMessage, encodeMessage, fromHex, MAX_TRANSACTION_BYTES, MAX_TRANSACTIONS,
  MESSAGE_TYPES, peekKind, toHex, WIRE_VERSION
} from '../src/proto/index.ts'
import { EXAMPLES } from './fixtures/examples.ts'
import type { MessageKindName } from '../src/proto/index.ts'

const vectors = JSON.parse(readFileSync(new URL('./vectors/wire.json', import.meta.url), 'utf8')) as Record<string, { bytes: string, root: string }>
const kinds = Object.keys(EXAMPLES) as MessageKindName[]

function decodeError (fn: () => unknown): DecodeError {
  try {
    fn()
  } catch (err) {
    expect(err).to.be.instanceOf(DecodeError)
    return err as DecodeError
  }
  throw new Error('expected a DecodeError')
}

describe('proto: wire encoding', () => {
  it('covers every message kind with a checked-in vector', () => {
    expect(Object.keys(vectors).sort()).to.deep.equal(kinds.slice().sort())
    expect(Object.keys(MESSAGE_TYPES).sort()).to.deep.equal(kinds.slice().sort())
  })

  for (const kind of kinds) {
    it(`${kind}: round-trips and matches its vector`, () => {
      const bytes = encodeMessage(kind, EXAMPLES[kind] as never)
      expect(bytes[0]).to.equal(WIRE_VERSION)
      expect(toHex(bytes)).to.equal(vectors[kind].bytes)
      const type = MESSAGE_TYPES[kind] as unknown as { hashTreeRoot(v: unknown): Uint8Array, equals(a: unknown, b: unknown): boolean }
      expect(toHex(type.hashTreeRoot(EXAMPLES[kind]))).to.equal(vectors[kind].root)
      const decoded = decodeMessage(kind, fromHex(vectors[kind].bytes))
      expect(type.equals(decoded, EXAMPLES[kind])).to.equal(true)
      expect(peekKind(bytes)).to.equal(kind)
      expect(decodeAnyMessage(bytes).kind).to.equal(kind)
    })
  }

  for (const version of [1, 2, 3]) {
    it(`refuses every version-${version} message (the checked-in v${version} vectors), naming the version`, () => {
      const old = JSON.parse(readFileSync(new URL(`./vectors/wire-v${version}.json`, import.meta.url), 'utf8')) as Record<string, { bytes: string }>
      expect(Object.keys(old).length).to.be.greaterThan(5)
      for (const [kind, { bytes }] of Object.entries(old)) {
        const err = decodeError(() => decodeAnyMessage(fromHex(bytes)))
        expect(err.field, kind).to.equal('version')
        expect(err.message).to.include(`unknown wire version ${version} (this node speaks ${WIRE_VERSION})`)
      }
    })
  }

  it('rejects an unknown wire version', () => {
    const bytes = encodeMessage('MarkDone', { slot: 1 })
    bytes[0] = WIRE_VERSION + 1
    expect(decodeError(() => decodeMessage('MarkDone', bytes)).field).to.equal('version')
  })

  it('rejects an unknown kind and a kind other than expected', () => {
    const bytes = encodeMessage('MarkDone', { slot: 1 })
    expect(decodeError(() => decodeMessage('SealCandidate', bytes)).field).to.equal('kind')
    bytes[1] = 250
    expect(decodeError(() => decodeAnyMessage(bytes)).field).to.equal('kind')
  })

  it('rejects an empty or envelope-only message', () => {
    expect(decodeError(() => decodeAnyMessage(new Uint8Array(0))).field).to.equal('version')
    expect(decodeError(() => decodeMessage('MarkDone', Uint8Array.from([WIRE_VERSION, 20]))).field).to.equal('length')
    expect(decodeError(() => decodeMessage('MarkDone', Uint8Array.from([WIRE_VERSION, 20, 0, 0, 0, 0]))).field).to.equal('MarkDone')
  })

  it('rejects trailing bytes on fixed and variable-size messages', () => {
    for (const kind of ['MarkDone', 'Candidate', 'HintBundle'] as const) {
      const bytes = encodeMessage(kind, EXAMPLES[kind] as never)
      const longer = new Uint8Array(bytes.length + 3)
      longer.set(bytes)
      expect(decodeError(() => decodeMessage(kind, longer)).field, kind).to.equal('length')
    }
  })

  it('names the field of a body over its transaction limit', () => {
    const candidate = { ...EXAMPLES.Candidate, body: Array.from({ length: MAX_TRANSACTIONS + 1 }, () => Uint8Array.from([1])) }
    const type = MESSAGE_TYPES.Candidate
    // encode around the bound check of the type: what a hostile peer can send
    const raw = serializeUnchecked(type, candidate)
    const err = decodeError(() => decodeMessage('Candidate', raw))
    expect(err.field).to.equal('Candidate.body')
    expect(err.message).to.match(/limit/)
  })

  it('names the transaction that is over its byte limit', () => {
    const candidate = { ...EXAMPLES.Candidate, body: [Uint8Array.from([1]), new Uint8Array(MAX_TRANSACTION_BYTES + 1)] }
    const raw = serializeUnchecked(MESSAGE_TYPES.Candidate, candidate)
    expect(decodeError(() => decodeMessage('Candidate', raw)).field).to.equal('Candidate.body[1]')
  })

  it('names a truncated fixed-size field', () => {
    const bytes = encodeMessage('SimOutput', EXAMPLES.SimOutput).slice(0, -1)
    new DataView(bytes.buffer).setUint32(2, bytes.length - 6, true)
    expect(decodeError(() => decodeMessage('SimOutput', bytes)).field).to.equal('SimOutput')
  })

  it('rejects a message over the global size bound before decoding', () => {
    const huge = new Uint8Array(8 * 1024 * 1024 + 1)
    huge[0] = WIRE_VERSION
    huge[1] = 3
    expect(decodeError(() => decodeAnyMessage(huge)).field).to.equal('message')
  })
})

/** SSZ serialization with a list limit lifted, to build the oversize bytes a hostile peer could send. */
function serializeUnchecked (type: typeof MESSAGE_TYPES.Candidate, value: unknown): Uint8Array {
  const body = type.fields.body as unknown as { limit: number, maxChunkCount: number }
  const tx = (type.fields.body as unknown as { elementType: { limitBytes: number, maxSize: number, maxChunkCount: number } }).elementType
  const saved = [body.limit, tx.limitBytes, tx.maxSize]
  body.limit = 1 << 20
  tx.limitBytes = 1 << 24
  tx.maxSize = 1 << 24
  try {
    const ssz = type.serialize(value as never)
    const out = new Uint8Array(ssz.length + 6)
    out[0] = WIRE_VERSION
    out[1] = 3
    new DataView(out.buffer).setUint32(2, ssz.length, true)
    out.set(ssz, 6)
    return out
  } finally {
    [body.limit, tx.limitBytes, tx.maxSize] = saved
  }
}
