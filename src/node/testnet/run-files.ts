/**
 * What a testnet run leaves in its `--out` directory besides the config, keys and logs: per slot the
 * candidate (SSZ, and JSON with every header field in hex — the Engine API's `engine_newPayloadV4`
 * parameters), its blobs bundle when it had blobs (SSZ, and the Engine API's `BlobsBundleV2` JSON) and
 * the chain's block for that number, in `slots/`; and every verified candidate as SSZ
 * and SSZ-JSON in `candidates/`.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encodeMessage, ssz, toEngineBlobsBundle, toExecutionPayload } from '../../proto/index.ts'
import { candidateToJson } from '../candidate-file.ts'
import type { ProposedBlock } from './proposer.ts'
import type { CandidateValue } from '../../proto/index.ts'

const json = (v: unknown): string => JSON.stringify(v, null, 2) + '\n'

export async function writeSlotFiles (dir: string, b: ProposedBlock): Promise<void> {
  const out = join(dir, 'slots')
  await mkdir(out, { recursive: true })
  if (b.candidate != null) {
    await writeFile(join(out, `${b.slot}.candidate.ssz`), encodeMessage('Candidate', b.candidate))
    await writeFile(join(out, `${b.slot}.candidate.json`), json({ slot: b.slot, ...toExecutionPayload(b.candidate) }))
  }
  if (b.bundle != null) {
    await writeFile(join(out, `${b.slot}.blobs.ssz`), ssz.BlobsBundle.serialize(b.bundle))
    await writeFile(join(out, `${b.slot}.blobs.json`), json(toEngineBlobsBundle(b.bundle)))
  }
  await writeFile(join(out, `${b.slot}.chain-block.json`), json({ slot: b.slot, from: b.from, block: b.chainBlock }))
}

export async function writeCandidateFiles (dir: string, candidates: Map<number, CandidateValue>): Promise<void> {
  const out = join(dir, 'candidates')
  await mkdir(out, { recursive: true })
  for (const [slot, c] of candidates) {
    await writeFile(join(out, `${slot}.ssz`), encodeMessage('Candidate', c))
    await writeFile(join(out, `${slot}.json`), json(candidateToJson(c)))
  }
}
