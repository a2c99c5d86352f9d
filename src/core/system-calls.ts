/**
 * The system writes a block performs around its transactions, which runTx alone skips and anvil does.
 * Pure over the VM's state manager.
 */
import { Address, bigIntToAddressBytes, bigIntToBytes, createAddressFromString, setLengthLeft } from '@ethereumjs/util'
import type { Common } from '@ethereumjs/common'
import type { VM } from '@ethereumjs/vm'

/** EIP-4788's beacon roots contract */
const BEACON_ROOTS_ADDRESS = createAddressFromString('0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02')

/**
 * The pre-transaction system writes a block performs: EIP-2935 (parent hash into the history
 * contract) and EIP-4788 (beacon root). runTx alone skips them; anvil does them.
 */
export async function writeSystemHistory (vm: VM, common: Common, number: bigint, parentHash: Uint8Array, timestamp: bigint, parentBeaconBlockRoot: Uint8Array = new Uint8Array(32)): Promise<void> {
  if (common.isActivatedEIP(4788)) {
    if ((await vm.stateManager.getCode(BEACON_ROOTS_ADDRESS)).length > 0) {
      const window = BigInt(common.param('historicalRootsLength'))
      const index = timestamp % window
      await vm.stateManager.putStorage(BEACON_ROOTS_ADDRESS, setLengthLeft(bigIntToBytes(index), 32), bigIntToBytes(timestamp))
      await vm.stateManager.putStorage(BEACON_ROOTS_ADDRESS, setLengthLeft(bigIntToBytes(index + window), 32), parentBeaconBlockRoot)
    }
  }
  if (common.isActivatedEIP(2935)) {
    const addr = new Address(bigIntToAddressBytes(common.param('historyStorageAddress')))
    if ((await vm.stateManager.getCode(addr)).length > 0) {
      const key = setLengthLeft(bigIntToBytes((number - 1n) % common.param('historyServeWindow')), 32)
      await vm.stateManager.putStorage(addr, key, parentHash)
    }
  }
}
