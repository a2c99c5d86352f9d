/**
 * A block header's hash from its JSON-RPC fields: keccak256 of the RLP list of the header fields in
 * the yellow paper's order, each fork's additions present exactly when the node reports them (London's
 * base fee, Shanghai's withdrawals root, Cancun's blob gas and beacon root, Prague's requests hash).
 * Measured on anvil 1.7.1: this reproduces its block hashes. It is how a member knows that a header
 * the RPC serves is the one a hash pins (the parent OpenSlot names, the ancestors BLOCKHASH reads).
 */
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, hexToBytes } from '@ethereumjs/util'
import { keccak256 } from '../proto/index.ts'
import { RpcError } from './errors.ts'
import type { RpcBlock } from './types.ts'

const FIXED = ['parentHash', 'sha3Uncles', 'miner', 'stateRoot', 'transactionsRoot', 'receiptsRoot', 'logsBloom', 'difficulty', 'number', 'gasLimit', 'gasUsed', 'timestamp', 'extraData', 'mixHash', 'nonce'] as const
const LATER = ['baseFeePerGas', 'withdrawalsRoot', 'blobGasUsed', 'excessBlobGas', 'parentBeaconBlockRoot', 'requestsHash'] as const
const QUANTITIES = new Set(['difficulty', 'number', 'gasLimit', 'gasUsed', 'timestamp', 'baseFeePerGas', 'blobGasUsed', 'excessBlobGas'])

function field (block: RpcBlock, name: string): Uint8Array {
  const v = block[name]
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]*$/.test(v)) {
    throw new RpcError('rpc-bad-response', 'eth_getBlockByHash', `header field ${name} is missing or not hex`)
  }
  if (QUANTITIES.has(name)) {
    // RLP integers are minimal big-endian: no leading zero bytes, zero is empty
    return bigIntToUnpaddedBytes(BigInt(v))
  }
  return hexToBytes(v as `0x${string}`)
}

/** The header's RLP fields, in order (each fork's fields only where the block has them). */
export function headerFields (block: RpcBlock): Uint8Array[] {
  const out = FIXED.map(name => field(block, name))
  for (let i = 0; i < LATER.length; i++) {
    if (block[LATER[i]] == null) {
      // a later field without an earlier one is not a header of any fork
      for (const rest of LATER.slice(i + 1)) {
        if (block[rest] != null) { throw new RpcError('rpc-bad-response', 'eth_getBlockByHash', `header has ${rest} but no ${LATER[i]}`) }
      }
      break
    }
    out.push(field(block, LATER[i]))
  }
  return out
}

/** keccak256(RLP(header)). */
export function headerHash (block: RpcBlock): Uint8Array {
  return keccak256(RLP.encode(headerFields(block)))
}
