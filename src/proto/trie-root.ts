/**
 * Root of an ordered Merkle-Patricia trie (key = RLP(index), as the transactions and receipts roots
 * of a block header), built bottom-up in one pass: every node is encoded and hashed once. The
 * incremental trie of `@ethereumjs/mpt` re-reads, re-decodes and re-hashes the path for every insert,
 * which cost ~15 ms of a 200-transaction slot; tests check this function against it.
 */
import { RLP } from '@ethereumjs/rlp'
import { compareBytes } from './bytes.ts'
import { keccak256 } from './keccak.ts'

type Node = Uint8Array | Node[]

interface Item {
  nibbles: Uint8Array
  value: Uint8Array
}

function nibblesOf (key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length * 2)
  key.forEach((b, i) => { out[2 * i] = b >> 4; out[2 * i + 1] = b & 0x0f })
  return out
}

/** Hex-prefix encoding (yellow paper, appendix C). */
function hexPrefix (nibbles: Uint8Array, leaf: boolean): Uint8Array {
  const odd = nibbles.length % 2
  const out = new Uint8Array(1 + (nibbles.length >> 1))
  out[0] = ((leaf ? 2 : 0) + odd) << 4
  let i = 0
  if (odd === 1) {
    out[0] |= nibbles[0]
    i = 1
  }
  for (let o = 1; i < nibbles.length; i += 2, o++) {
    out[o] = (nibbles[i] << 4) | nibbles[i + 1]
  }
  return out
}

/** How a parent refers to a child: inline when its encoding is shorter than 32 bytes. */
function reference (node: Node): Node {
  const encoded = RLP.encode(node as never)
  return encoded.length < 32 ? node : keccak256(encoded)
}

function commonPrefix (items: Item[], depth: number): number {
  const first = items[0].nibbles
  let p = 0
  for (;;) {
    const at = depth + p
    if (at >= first.length || items.some(it => at >= it.nibbles.length || it.nibbles[at] !== first[at])) {
      return p
    }
    p++
  }
}

/** `items` sorted by key, distinct keys. */
function build (items: Item[], depth: number): Node {
  if (items.length === 1) {
    return [hexPrefix(items[0].nibbles.subarray(depth), true), items[0].value]
  }
  const p = commonPrefix(items, depth)
  if (p > 0) {
    return [hexPrefix(items[0].nibbles.subarray(depth, depth + p), false), reference(build(items, depth + p))]
  }
  const branch: Node[] = Array.from({ length: 17 }, () => new Uint8Array(0))
  let i = 0
  if (items[0].nibbles.length === depth) {
    branch[16] = items[0].value
    i = 1
  }
  while (i < items.length) {
    const nibble = items[i].nibbles[depth]
    let j = i
    while (j < items.length && items[j].nibbles[depth] === nibble) { j++ }
    branch[nibble] = reference(build(items.slice(i, j), depth + 1))
    i = j
  }
  return branch
}

/** The root of the trie mapping RLP(i) → values[i]. */
export function orderedTrieRoot (values: Uint8Array[]): Uint8Array {
  if (values.length === 0) {
    return keccak256(RLP.encode(new Uint8Array(0)))
  }
  const items = values.map((value, i) => ({ nibbles: nibblesOf(RLP.encode(i)), value }))
  items.sort((a, b) => compareBytes(a.nibbles, b.nibbles))
  return keccak256(RLP.encode(build(items, 0) as never))
}
