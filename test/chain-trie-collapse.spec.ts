/**
 * The deletion that collapses a branch on a partial trie: found before it happens, its missing child
 * brought in by the proof of a crafted key, and the root then equal to the full trie's.
 */
import { createMerkleProof, createMPT, MerklePatriciaTrie } from '@ethereumjs/mpt'
import { bigIntToBytes, bytesToHex, bytesToUnprefixedHex, MapDB, setLengthLeft, ValueEncoding } from '@ethereumjs/util'
import { keccak_256 as keccak256 } from '@noble/hashes/sha3.js'
import { expect } from 'aegir/chai'
import { collapseSibling, keyUnder, MAX_CRAFTED_NIBBLES } from '../src/chain/index.ts'

const slot = (n: number): Uint8Array => setLengthLeft(bigIntToBytes(BigInt(n)), 32)
const nibble0 = (key: Uint8Array): number => keccak256(key)[0] >> 4
const value = Uint8Array.from([0x85, 1, 2, 3, 4, 5])

describe('chain: a deletion\'s branch collapse on a partial trie', () => {
  it('finds the missing child, crafts a key under it, and deletes to the full trie\'s root', async () => {
    // two keys whose hashed paths part at the first nibble: the root is a branch of two leaves
    const a = slot(1)
    let b = slot(2)
    for (let n = 3; nibble0(b) === nibble0(a); n++) { b = slot(n) }
    const full = await createMPT({ useKeyHashing: true })
    await full.put(a, value)
    await full.put(b, value)

    // the partial trie holds only what a proof of `a` brings
    const nodes = new Map<string, Uint8Array>()
    const add = (proof: Uint8Array[]): void => { for (const node of proof) { nodes.set(bytesToUnprefixedHex(keccak256(node)), node) } }
    add(await createMerkleProof(full, a))
    const partial = new MerklePatriciaTrie({ db: new MapDB(nodes), root: full.root(), useKeyHashing: true, valueEncoding: ValueEncoding.Bytes })
    const prefix = await collapseSibling(partial, keccak256(a), h => nodes.has(h))
    expect(prefix).to.deep.equal([nibble0(b)])

    const crafted = keyUnder(prefix as number[], 32) as Uint8Array
    expect(nibble0(crafted)).to.equal(nibble0(b))
    add(await createMerkleProof(full, crafted)) // a proof of absence, routed through b's leaf
    expect(await collapseSibling(partial, keccak256(a), h => nodes.has(h))).to.equal(undefined)

    await partial.del(a)
    await full.del(a)
    expect(bytesToHex(partial.root())).to.equal(bytesToHex(full.root()))
  })

  it('needs nothing when the key is absent, or when its branch keeps two or more children', async () => {
    const full = await createMPT({ useKeyHashing: true })
    for (let n = 1; n <= 40; n++) { await full.put(slot(n), value) }
    const partialFor = async (keys: Uint8Array[]): Promise<{ trie: MerklePatriciaTrie, has(h: string): boolean }> => {
      const nodes = new Map<string, Uint8Array>()
      for (const key of keys) {
        for (const node of await createMerkleProof(full, key)) { nodes.set(bytesToUnprefixedHex(keccak256(node)), node) }
      }
      return { trie: new MerklePatriciaTrie({ db: new MapDB(nodes), root: full.root(), useKeyHashing: true, valueEncoding: ValueEncoding.Bytes }), has: h => nodes.has(h) }
    }
    const absent = await partialFor([slot(1000)])
    expect(await collapseSibling(absent.trie, keccak256(slot(1000)), absent.has), 'absent (proven so)').to.equal(undefined)
    // among 40 hashed keys, some leaf shares its branch with two or more others: deleting it collapses nothing
    let found = false
    for (let n = 1; n <= 40 && !found; n++) {
      const p = await partialFor([slot(n)])
      if (await collapseSibling(p.trie, keccak256(slot(n)), p.has) !== undefined) { continue }
      found = true
      await p.trie.del(slot(n))
      await full.del(slot(n))
      expect(bytesToHex(p.trie.root())).to.equal(bytesToHex(full.root()))
    }
    expect(found).to.equal(true)
  })

  it('gives up past its bound instead of hashing for minutes', () => {
    expect(keyUnder(Array.from({ length: MAX_CRAFTED_NIBBLES + 1 }, () => 0xa), 32)).to.equal(undefined)
    const three = keyUnder([1, 2, 3], 20) as Uint8Array
    expect(three).to.have.length(20)
    expect([keccak256(three)[0] >> 4, keccak256(three)[0] & 15, keccak256(three)[1] >> 4]).to.deep.equal([1, 2, 3])
  })
})
