/**
 * ethereumjs' `MerkleStateManager` on a proven parent: a partial trie that holds only what proofs
 * brought, rooted at the parent's state root. Every read and write of an account or a slot first
 * makes sure its proof is in (a trie walk through a missing node would read as "absent" and a write
 * there would compute a wrong root, so nothing touches a key before its path is proven), and the
 * post-state root comes from the trie after execution.
 *
 * A storage deletion that collapses a branch whose surviving child no proof holds first brings that
 * child in (a proof of a crafted key routed through it: trie-collapse.ts). What still cannot be
 * computed fails with `parent-state-incomplete`, never a wrong value. Storage writes are done here
 * rather than in the base class, whose write path runs inside an async Promise executor: a trie error
 * there is an unhandled rejection (a crashed member) instead of a failed simulation.
 *
 * Owns ProvenStateManager and provenStateSource.
 */
import { RLP } from '@ethereumjs/rlp'
import { Caches, MerkleStateManager } from '@ethereumjs/statemanager'
import { bytesToHex } from '@ethereumjs/util'
import { ParentStateProofError } from './proven-state.ts'
import type { CallShape } from './parent-state.ts'
import type { ProvenParent } from './proven-state.ts'
import type { Common } from '@ethereumjs/common'
import type { Account, Address } from '@ethereumjs/util'

/** A trie operation that met a node no proof holds becomes `parent-state-incomplete`. */
async function incomplete<T> (p: Promise<T>): Promise<T> {
  try {
    return await p
  } catch (err) {
    if ((err as Error).message === 'Missing node in DB') {
      throw new ParentStateProofError('parent-state-incomplete', 'a deletion collapses a trie branch whose other child no proof holds')
    }
    throw err
  }
}

export class ProvenStateManager extends MerkleStateManager {
  readonly parent: ProvenParent

  constructor (parent: ProvenParent, common: Common) {
    super({ common, trie: parent.trie(parent.stateRoot), caches: new Caches(), prefixCodeHashes: true, prefixStorageTrieKeys: false })
    this.parent = parent
  }

  override async getAccount (address: Address): Promise<Account | undefined> {
    await this.parent.account(address.toString())
    return super.getAccount(address)
  }

  override async putAccount (address: Address, account: Account | undefined): Promise<void> {
    await this.parent.account(address.toString())
    return super.putAccount(address, account)
  }

  override async deleteAccount (address: Address): Promise<void> {
    await this.parent.account(address.toString())
    return super.deleteAccount(address)
  }

  override async getStorage (address: Address, key: Uint8Array): Promise<Uint8Array> {
    await this.parent.storage(address.toString(), bytesToHex(key))
    return super.getStorage(address, key)
  }

  override async putStorage (address: Address, key: Uint8Array, value: Uint8Array): Promise<void> {
    await this.parent.storage(address.toString(), bytesToHex(key))
    return super.putStorage(address, key, value)
  }

  override async getCode (address: Address): Promise<Uint8Array> {
    await this.parent.code(address.toString())
    return super.getCode(address)
  }

  protected override async _writeContractStorage (address: Address, account: Account, key: Uint8Array, value: Uint8Array): Promise<void> {
    const trie = this._getStorageTrie(address, account)
    if (value.length > 0) {
      await trie.put(key, RLP.encode(value))
    } else {
      await this.parent.beforeStorageDeletion(address.toString(), trie, key)
      await incomplete(trie.del(key))
    }
    account.storageRoot = trie.root()
    await this.putAccount(address, account)
  }

  /** Flushes at depth 0: an account deletion that needs an unproven node fails typed. */
  override async commit (): Promise<void> {
    if (this._checkpointCount !== 1) { return incomplete(super.commit()) }
    // the outermost commit writes the block's changes into the trie: the first half of the root's cost
    const started = performance.now()
    try {
      return await incomplete(super.commit())
    } finally {
      this.parent.timings.rootMs += performance.now() - started
    }
  }

  /** The post-state root; a deletion whose collapse needs an unproven node fails typed. */
  override async getStateRoot (): Promise<Uint8Array> {
    const started = performance.now()
    try {
      return await incomplete(super.getStateRoot())
    } finally {
      this.parent.timings.rootMs += performance.now() - started
    }
  }

  override shallowCopy (): ProvenStateManager {
    return new ProvenStateManager(this.parent, this.common)
  }
}

/** Structurally core's `StateSource`, over a proven parent: its simulations report a post-state root. */
export interface ProvenStateSource {
  stateManager(common: Common): ProvenStateManager
  blockHash(n: bigint): Promise<Uint8Array>
  prefetch(addresses: string[]): Promise<void>
  prefetchCalls(calls: CallShape[]): Promise<void>
  computesStateRoot: true
}

export function provenStateSource (parent: ProvenParent): ProvenStateSource {
  return {
    stateManager: (common: Common) => new ProvenStateManager(parent, common),
    blockHash: async (n: bigint) => parent.blockHash(n),
    prefetch: async (addresses: string[]) => parent.prefetch(addresses),
    // the access-list warm-up decides what to prove in one batch
    prefetchCalls: async (calls: CallShape[]) => parent.prefetchCalls(calls),
    computesStateRoot: true
  }
}
