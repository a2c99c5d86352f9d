/**
 * `RPCStateManager` pinned to a parent block, reading through the shared `ParentState` cache and the
 * project's RPC client. Its own caches are the simulation's write overlay.
 *
 * Fixes measured on 10.1.3 (EVM-NOTES): `commit()` committed only the account cache, so storage and
 * code writes survived a later revert; and reads were one HTTP request each, uncached across
 * simulations and dropped when read inside a reverted checkpoint.
 */
import { RPCStateManager } from '@ethereumjs/statemanager'
import { createAccount, hexToBytes, bytesToHex } from '@ethereumjs/util'
import type { ParentState } from './parent-state.ts'
import type { Common } from '@ethereumjs/common'
import type { Account, Address } from '@ethereumjs/util'

interface Internals {
  _caches: {
    code?: { get(a: Address): { code: Uint8Array } | undefined, put(a: Address, c: Uint8Array): void }
    storage?: { get(a: Address, k: Uint8Array): Uint8Array | undefined }
    commit(): void
  }
}

export class PinnedStateManager extends RPCStateManager {
  readonly parent: ParentState

  constructor (parent: ParentState, common: Common) {
    super({ provider: parent.rpc.url, blockTag: parent.number, common })
    this.parent = parent
  }

  get #caches (): Internals['_caches'] {
    return (this as unknown as Internals)._caches
  }

  override async getCode (address: Address): Promise<Uint8Array> {
    const cached = this.#caches.code?.get(address)?.code
    if (cached !== undefined) {
      return cached
    }
    const code = hexToBytes(await this.parent.code(address.toString()) as `0x${string}`)
    this.#caches.code?.put(address, code)
    return code
  }

  override async getStorage (address: Address, key: Uint8Array): Promise<Uint8Array> {
    if (key.length !== 32) {
      throw new Error('Storage key must be 32 bytes long')
    }
    const cached = this.#caches.storage?.get(address, key)
    if (cached !== undefined) {
      return cached
    }
    const value = hexToBytes(await this.parent.storage(address.toString(), bytesToHex(key)) as `0x${string}`)
    await this.putStorage(address, key, value)
    return value
  }

  override async getAccountFromProvider (address: Address): Promise<Account> {
    // a zero code hash (how nodes answer for an account that does not exist) makes the base class
    // report the account as absent, as it does for its own provider reads
    const a = await this.parent.account(address.toString())
    return createAccount({ nonce: a.nonce, balance: a.balance, codeHash: hexToBytes(a.codeHash as `0x${string}`), storageRoot: hexToBytes(a.storageHash as `0x${string}`) })
  }

  override async commit (): Promise<void> {
    this.#caches.commit()
  }

  override shallowCopy (): PinnedStateManager {
    return new PinnedStateManager(this.parent, this.common)
  }
}
