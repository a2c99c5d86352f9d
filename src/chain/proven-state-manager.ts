/**
 * ethereumjs' `MerkleStateManager` on a proven parent: a partial trie that holds only what proofs
 * brought, rooted at the parent's state root. Every read and write of an account or a slot first
 * makes sure its proof is in (a trie walk through a missing node would read as "absent" and a write
 * there would compute a wrong root, so nothing touches a key before its path is proven), and the
 * post-state root comes from the trie after execution.
 *
 * A deletion that collapses a branch whose surviving sibling no proof holds cannot be computed: the
 * root then fails with `parent-state-incomplete`, never a wrong value.
 *
 * Owns ProvenStateManager and provenStateSource.
 */
import { Caches, MerkleStateManager } from '@ethereumjs/statemanager'
import { bytesToHex } from '@ethereumjs/util'
import { ParentStateProofError } from './proven-state.ts'
import type { CallShape } from './parent-state.ts'
import type { ProvenParent } from './proven-state.ts'
import type { Common } from '@ethereumjs/common'
import type { Account, Address } from '@ethereumjs/util'

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

  /** The post-state root; a deletion whose collapse needs an unproven node fails with a typed error. */
  override async getStateRoot (): Promise<Uint8Array> {
    try {
      return await super.getStateRoot()
    } catch (err) {
      if ((err as Error).message === 'Missing node in DB') {
        throw new ParentStateProofError('parent-state-incomplete', 'a deletion collapses a trie branch whose other child no proof holds')
      }
      throw err
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
