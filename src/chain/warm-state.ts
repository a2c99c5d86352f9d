/**
 * Warm parent state: a member that simulated a slot holds its post-state — the nodes its partial
 * trie wrote beside the proven ones. When that block becomes the next parent (the committee's block
 * went on chain), the nodes reachable from its state root are exactly a partial trie of the new
 * parent's state, already hash-linked to that root: as trustworthy as verified proofs, and free.
 * Only the reachable nodes are carried over (the pre-state's and the dead branches stay behind), so
 * the held state does not grow from slot to slot beyond what the slots touch.
 *
 * Owns reachableNodes.
 */
import { RLP } from '@ethereumjs/rlp'
import { CODEHASH_PREFIX } from '@ethereumjs/statemanager'
import { concatBytes, createAccountFromRLP, KECCAK256_RLP } from '@ethereumjs/util'
import { toHex } from '../proto/index.ts'

type Node = Uint8Array | Node[]

// the map outlives the slot (it seeds the next parent): flat keys (see toHex)
const hexOf = toHex

/** A compact-encoded path's leaf flag (Ethereum's hex-prefix encoding: 2 or 3 in the first nibble). */
const isLeafPath = (path: Uint8Array): boolean => path.length > 0 && (path[0] >> 4) >= 2

/**
 * The nodes of `nodes` reachable from `stateRoot` through the account trie, each account's storage
 * trie, and its code (under ethereumjs' code-hash prefix), as a new map. A child the map lacks is
 * skipped: the result is a partial trie, filled later by proofs as the full one would be.
 */
export function reachableNodes (nodes: Map<string, Uint8Array>, stateRoot: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>()
  const emptyTrie = hexOf(KECCAK256_RLP)
  const visit = (hash: Uint8Array, leaf: (value: Uint8Array) => void): void => {
    const stack: Uint8Array[] = [hash]
    while (stack.length > 0) {
      const key = hexOf(stack.pop() as Uint8Array)
      if (out.has(key) || key === emptyTrie) { continue }
      const raw = nodes.get(key)
      if (raw == null) { continue }
      out.set(key, raw)
      walk(RLP.decode(raw) as Node, stack, leaf)
    }
  }
  const walk = (node: Node, stack: Uint8Array[], leaf: (value: Uint8Array) => void): void => {
    if (!Array.isArray(node)) { return }
    if (node.length === 17) {
      for (let i = 0; i < 16; i++) { child(node[i], stack, leaf) }
      if (node[16] instanceof Uint8Array && node[16].length > 0) { leaf(node[16]) }
    } else if (node.length === 2 && node[0] instanceof Uint8Array) {
      if (isLeafPath(node[0])) {
        if (node[1] instanceof Uint8Array) { leaf(node[1]) }
      } else {
        child(node[1], stack, leaf)
      }
    }
  }
  // a child is a hash (32 bytes) or, when its RLP is shorter than 32 bytes, the node itself inline
  const child = (ref: Node, stack: Uint8Array[], leaf: (value: Uint8Array) => void): void => {
    if (Array.isArray(ref)) {
      walk(ref, stack, leaf)
    } else if (ref.length === 32) {
      stack.push(ref)
    }
  }
  visit(stateRoot, value => {
    let account
    try { account = createAccountFromRLP(value) } catch { return }
    visit(account.storageRoot, () => {})
    const codeKey = hexOf(concatBytes(CODEHASH_PREFIX, account.codeHash))
    const code = nodes.get(codeKey)
    if (code != null) { out.set(codeKey, code) }
  })
  return out
}
