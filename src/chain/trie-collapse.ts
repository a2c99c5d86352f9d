/**
 * The known hard case of computing a root on a partial trie: deleting a key can leave its branch with
 * one other child, which the trie must read to collapse the branch — and no proof of the keys that
 * execution touched holds that child. `collapseSibling` finds, before the deletion, whether it needs
 * such a node and where it sits (its nibble prefix); `keyUnder` crafts a key whose hashed path runs
 * through that prefix, so that a proof of it (a proof of absence is enough) brings the node in.
 *
 * Crafting costs about 16^n keccak hashes for an n-nibble prefix (measured here: ~5 µs a hash, so
 * ~0.3 s on average for 4 nibbles and ~5 s for 5): it stops at MAX_CRAFTED_NIBBLES = 4, enough for
 * tries of some thousands of keys, and past it the slot is refused (`parent-state-incomplete`) rather
 * than built on a guessed root. Deep tries (mainnet's large contracts) need the node's execution
 * witness instead.
 *
 * Owns collapseSibling, keyUnder and MAX_CRAFTED_NIBBLES. Pure over a trie; no I/O.
 */
import { BranchMPTNode, ExtensionMPTNode, LeafMPTNode } from '@ethereumjs/mpt'
import { bytesToUnprefixedHex } from '@ethereumjs/util'
import { keccak256 } from '../proto/index.ts'
import type { MerklePatriciaTrie } from '@ethereumjs/mpt'

export const MAX_CRAFTED_NIBBLES = 4

const nibblesOf = (bytes: Uint8Array): number[] => [...bytes].flatMap(b => [b >> 4, b & 15])

function startsWith (nibbles: number[], at: number, prefix: ArrayLike<number>): boolean {
  for (let i = 0; i < prefix.length; i++) {
    if (nibbles[at + i] !== prefix[i]) { return false }
  }
  return true
}

/**
 * For a deletion of the key whose hashed path is `hashedKey`: the nibble prefix of the node its
 * branch's collapse would read, when that node is held nowhere (`has`); undefined when the deletion
 * needs nothing more (the key is absent, the branch keeps two or more children, or the child is
 * embedded in the branch or held).
 */
export async function collapseSibling (trie: MerklePatriciaTrie, hashedKey: Uint8Array, has: (hash: string) => boolean): Promise<number[] | undefined> {
  const nibbles = nibblesOf(hashedKey)
  let ref: Uint8Array | Uint8Array[] = trie.root()
  // an empty trie holds nothing to delete (its root is no node)
  if (bytesToUnprefixedHex(ref) === bytesToUnprefixedHex(trie.EMPTY_TRIE_ROOT)) { return undefined }
  let depth = 0
  let branch: { node: BranchMPTNode, depth: number } | undefined
  for (let step = 0; step <= nibbles.length; step++) {
    const node = await trie.lookupNode(ref)
    if (node instanceof BranchMPTNode) {
      const next = node.getBranch(nibbles[depth])
      if (next == null || (next instanceof Uint8Array && next.length === 0)) { return undefined }
      branch = { node, depth }
      ref = next as Uint8Array | Uint8Array[]
      depth++
    } else if (node instanceof ExtensionMPTNode) {
      if (!startsWith(nibbles, depth, node.key())) { return undefined }
      depth += node.key().length
      ref = node.value()
    } else if (node instanceof LeafMPTNode) {
      if (!startsWith(nibbles, depth, node.key()) || depth + node.key().length !== nibbles.length) { return undefined }
      break
    } else {
      return undefined
    }
  }
  if (branch == null) { return undefined }
  const others = branch.node.getChildren().filter(([i]) => i !== nibbles[branch.depth])
  if (others.length !== 1) { return undefined }
  const [index, child] = others[0]
  // a child under 32 bytes is embedded in the branch itself: nothing to read
  if (!(child instanceof Uint8Array) || child.length !== 32 || has(bytesToUnprefixedHex(child))) { return undefined }
  return [...nibbles.slice(0, branch.depth), index]
}

/**
 * A preimage of `length` bytes (a 32-byte storage slot or a 20-byte address) whose keccak hash starts
 * with the nibbles of `prefix`; undefined past MAX_CRAFTED_NIBBLES. Deterministic: every member
 * crafts the same key for the same prefix.
 */
export function keyUnder (prefix: number[], length: 20 | 32): Uint8Array | undefined {
  if (prefix.length > MAX_CRAFTED_NIBBLES) { return undefined }
  // one buffer, its low bytes counted up in place: allocation, not hashing, dominated a first version
  const candidate = new Uint8Array(length)
  const tries = 64 * 16 ** prefix.length
  for (let i = 1; i <= tries; i++) {
    let n = i
    for (let b = length - 1; b >= length - 6; b--) {
      candidate[b] = n & 0xff
      n = Math.floor(n / 256)
    }
    const h = keccak256(candidate)
    let ok = true
    for (let k = 0; k < prefix.length && ok; k++) {
      ok = ((k % 2 === 0 ? h[k >> 1] >> 4 : h[k >> 1] & 15) === prefix[k])
    }
    if (ok) { return candidate.slice() }
  }
  return undefined
}
