/**
 * What a block does after its transactions: EIP-4895 withdrawals (balance increases in Gwei, not
 * transactions: no gas, no receipts) and the EIP-7685 requests — EIP-6110 deposits parsed from the
 * deposit contract's logs, EIP-7002 withdrawal and EIP-7251 consolidation requests dequeued by system
 * calls to their predeploys. A predeploy without code yields no requests (anvil 1.7.1 deploys none);
 * the Ethereum Foundation's fixtures are the oracle for these. Pure over the VM's state.
 */
import { Account, bigIntToAddressBytes, bytesToBigInt, bytesToHex, concatBytes, createAddressFromString } from '@ethereumjs/util'
import type { Log } from './execute.ts'
import type { WithdrawalValue } from '../proto/index.ts'
import type { Common } from '@ethereumjs/common'
import type { VM } from '@ethereumjs/vm'

const GWEI = 1_000_000_000n
const DEPOSIT_TOPIC = '0x649bbc62d0e31342afea4e5cd82d4049e7e1ee912fc0889aa790803be39038c5'
/** mainnet's deposit contract; a chain config may name another */
export const MAINNET_DEPOSIT_CONTRACT = '0x00000000219ab540356cbb839cbe05303d7705fa'
/** (offset of the field's length word, the field's size) in the DepositEvent's ABI data */
const DEPOSIT_FIELDS: Array<[number, number]> = [[160, 48], [256, 32], [320, 8], [384, 96], [512, 8]]
const DEPOSIT_LOG_BYTES = 576

/** An EIP-6110 deposit log whose ABI layout is not the deposit contract's makes the block invalid. */
export class InvalidDepositLogError extends Error {
  readonly code = 'invalid-deposit-log'
}

/** Credits each withdrawal (Gwei → wei); a zero amount touches nothing. */
export async function applyWithdrawals (vm: VM, withdrawals: WithdrawalValue[]): Promise<void> {
  for (const w of withdrawals) {
    if (w.amount === 0n) { continue }
    const address = createAddressFromString(bytesToHex(w.address))
    const account = await vm.stateManager.getAccount(address) ?? new Account()
    account.balance += w.amount * GWEI
    await vm.stateManager.putAccount(address, account)
  }
}

function depositRequestData (data: Uint8Array): Uint8Array {
  if (data.length !== DEPOSIT_LOG_BYTES) {
    throw new InvalidDepositLogError(`deposit log of ${data.length} bytes (the contract's are ${DEPOSIT_LOG_BYTES})`)
  }
  const parts = DEPOSIT_FIELDS.map(([offset, size], i) => {
    const declaredOffset = bytesToBigInt(data.subarray(32 * i, 32 * i + 32))
    const declaredSize = bytesToBigInt(data.subarray(offset, offset + 32))
    if (declaredOffset !== BigInt(offset) || declaredSize !== BigInt(size)) {
      throw new InvalidDepositLogError('deposit log with an unexpected ABI layout')
    }
    return data.subarray(offset + 32, offset + 32 + size)
  })
  return concatBytes(...parts)
}

/** Dequeues a request predeploy by a system call (EIP-7002/7251); the system account is left as it was. */
async function dequeue (vm: VM, common: Common, addressParam: string): Promise<Uint8Array> {
  const to = createAddressFromString(bytesToHex(bigIntToAddressBytes(common.param(addressParam))))
  if ((await vm.stateManager.getAccount(to)) === undefined) {
    return new Uint8Array(0)
  }
  const system = createAddressFromString(bytesToHex(bigIntToAddressBytes(common.param('systemAddress'))))
  const before = await vm.stateManager.getAccount(system)
  const result = await vm.evm.runCall({ caller: system, to, gasLimit: common.param('systemCallGasLimit') })
  if (before === undefined) {
    await vm.stateManager.deleteAccount(system)
  } else {
    await vm.stateManager.putAccount(system, before)
  }
  return result.execResult.returnValue
}

/**
 * The block's EIP-7685 requests, each `request_type ‖ request_data`, types ascending, empty ones left
 * out; none before Prague.
 */
export async function collectRequests (vm: VM, common: Common, logs: Log[], depositContract = MAINNET_DEPOSIT_CONTRACT): Promise<Uint8Array[]> {
  if (!common.isActivatedEIP(7685)) { return [] }
  const out: Uint8Array[] = []
  if (common.isActivatedEIP(6110)) {
    const deposits = logs
      .filter(([address, topics]) => bytesToHex(address).toLowerCase() === depositContract && topics.length > 0 && bytesToHex(topics[0]) === DEPOSIT_TOPIC)
      .map(([, , data]) => depositRequestData(data))
    if (deposits.length > 0) { out.push(concatBytes(Uint8Array.of(0), ...deposits)) }
  }
  if (common.isActivatedEIP(7002)) {
    const data = await dequeue(vm, common, 'withdrawalRequestPredeployAddress')
    if (data.length > 0) { out.push(concatBytes(Uint8Array.of(1), data)) }
  }
  if (common.isActivatedEIP(7251)) {
    const data = await dequeue(vm, common, 'consolidationRequestPredeployAddress')
    if (data.length > 0) { out.push(concatBytes(Uint8Array.of(2), data)) }
  }
  return out
}
