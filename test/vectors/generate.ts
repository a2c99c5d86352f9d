/**
 * Rewrites test/vectors/wire.json from the fixed examples. Run only on a deliberate encoding change
 * (`npm run vectors:update`), and bump WIRE_VERSION with it.
 */
import { writeFileSync } from 'node:fs'
import { encodeMessage, MESSAGE_TYPES, toHex } from '../../src/proto/index.ts'
import { EXAMPLES } from '../fixtures/examples.ts'
import type { MessageKindName } from '../../src/proto/index.ts'

const out: Record<string, { bytes: string, root: string }> = {}
for (const kind of Object.keys(EXAMPLES) as MessageKindName[]) {
  const value = EXAMPLES[kind]
  const type = MESSAGE_TYPES[kind] as unknown as { hashTreeRoot(v: unknown): Uint8Array }
  out[kind] = { bytes: toHex(encodeMessage(kind, value as never)), root: toHex(type.hashTreeRoot(value)) }
}
writeFileSync(new URL('./wire.json', import.meta.url), JSON.stringify(out, null, 2) + '\n')
