import { readFile } from 'node:fs/promises'
import { DecodeError, decodeMessage, ssz } from '../proto/index.ts'
import type { CandidateValue } from '../proto/index.ts'

/** The JSON form of a candidate: SSZ's JSON mapping (0x-hex bytes, decimal-string integers). */
export function candidateToJson (candidate: CandidateValue): unknown {
  return ssz.Candidate.toJson(candidate)
}

export function candidateFromJson (json: unknown): CandidateValue {
  try {
    return ssz.Candidate.fromJson(json)
  } catch (err) {
    throw new DecodeError('Candidate(json)', (err as Error).message)
  }
}

/** A candidate file holds either the encoded message (SSZ with the wire envelope) or its JSON form. */
export async function readCandidateFile (path: string): Promise<CandidateValue> {
  const bytes = new Uint8Array(await readFile(path))
  const first = bytes.find(b => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09)
  if (first === 0x7b) { // '{'
    let json: unknown
    try {
      json = JSON.parse(new TextDecoder().decode(bytes))
    } catch (err) {
      throw new DecodeError('Candidate(json)', `not valid JSON: ${(err as Error).message}`)
    }
    return candidateFromJson(json)
  }
  return decodeMessage('Candidate', bytes)
}
