import { createBlock } from '@ethereumjs/block'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { expect } from 'aegir/chai'
import fc from 'fast-check'
import { orderedTrieRoot } from '../src/proto/index.ts'

async function mptRoot (values: Uint8Array[]): Promise<Uint8Array> {
  const trie = new MerklePatriciaTrie()
  for (let i = 0; i < values.length; i++) {
    await trie.put(RLP.encode(i), values[i])
  }
  return trie.root()
}

describe('core: ordered trie root', () => {
  it('equals @ethereumjs/mpt around every key-length and branch boundary', async () => {
    for (const n of [0, 1, 2, 15, 16, 17, 127, 128, 129, 130, 255, 256, 257, 300]) {
      // short values end up inline in their parent, long ones by hash: both paths in every size
      const values = Array.from({ length: n }, (_, i) => new Uint8Array((i * 7) % 45 + 1).fill(i & 0xff))
      expect(orderedTrieRoot(values), `n = ${n}`).to.deep.equal(await mptRoot(values))
    }
  })

  it('equals @ethereumjs/mpt for any list of values (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 1, maxLength: 80 }), { maxLength: 160 }), async values => {
      expect(orderedTrieRoot(values)).to.deep.equal(await mptRoot(values))
    }), { numRuns: 60 })
  })

  it('is the empty-trie root for no values (as an empty block header has)', () => {
    expect(orderedTrieRoot([])).to.deep.equal(createBlock({}).header.transactionsTrie)
  })
})
