/**
 * A few recent parents, by hash (a reorg at a height never serves another block's state), each
 * opened warm from a held parent whose simulation wrote its state root (warm-state.ts), or from
 * proofs alone.
 *
 * Owns ProvenParentCache.
 */
import { bytesToUnprefixedHex } from '@ethereumjs/util'
import { LRUCache } from 'lru-cache'
import { ProvenParent } from './proven-state.ts'
import { reachableNodes } from './warm-state.ts'
import type { ChainRpc } from './rpc-client.ts'

export interface ProvenParentCacheOptions {
  /** parents held (default 4) */
  max?: number
  /** a parent was opened: `warm` from a predecessor's post-state, `proofs` from the chain RPC alone */
  onOpen?(path: 'warm' | 'proofs'): void
  /** start parents from a predecessor's post-state where one is held (default true) */
  warm?: boolean
}

export class ProvenParentCache {
  readonly #rpc: ChainRpc
  readonly #o: ProvenParentCacheOptions
  readonly #parents: LRUCache<string, Promise<ProvenParent>>
  readonly #opened: LRUCache<string, ProvenParent>

  constructor (rpc: ChainRpc, options: ProvenParentCacheOptions = {}) {
    this.#rpc = rpc
    this.#o = options
    this.#parents = new LRUCache({ max: options.max ?? 4 })
    this.#opened = new LRUCache({ max: options.max ?? 4 })
  }

  async get (parentHash: string): Promise<ProvenParent> {
    const key = parentHash.toLowerCase()
    let p = this.#parents.get(key)
    if (p == null) {
      p = this.#open(key)
      this.#parents.set(key, p)
      p.catch(() => { if (this.#parents.get(key) === p) { this.#parents.delete(key) } })
    }
    return p
  }

  /**
   * Opens a parent; when a held parent's simulation wrote this one's state root (the committee's own
   * block went on chain), it starts from that post-state instead of proofs.
   */
  async #open (key: string): Promise<ProvenParent> {
    const parent = await ProvenParent.open(this.#rpc, key)
    const root = bytesToUnprefixedHex(parent.stateRoot)
    const donor = this.#o.warm === false ? undefined : [...this.#opened.values()].find(d => d.nodes.has(root))
    if (donor != null) { parent.seed(reachableNodes(donor.nodes, parent.stateRoot)) }
    this.#opened.set(key, parent)
    this.#o.onOpen?.(donor != null ? 'warm' : 'proofs')
    return parent
  }
}
