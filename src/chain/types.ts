import type { ParentHeader } from '../proto/index.ts'

/** A block as `eth_getBlockByNumber(n, false)` returns it (the fields atelier reads). */
export interface RpcBlock {
  number: string
  hash: string
  parentHash: string
  timestamp: string
  gasLimit: string
  gasUsed: string
  baseFeePerGas?: string
  miner: string
  mixHash?: string
  stateRoot: string
  receiptsRoot: string
  transactionsRoot: string
  excessBlobGas?: string
  blobGasUsed?: string
  parentBeaconBlockRoot?: string
  transactions: string[]
  [key: string]: unknown
}

/** A slot boundary: the chain has a new head; the next block (`slot`) is to be built on it. */
export interface SlotBoundary {
  slot: number
  parentHash: string
  parentNumber: number
  /** the parent's timestamp (unix seconds) */
  timestamp: number
  parent: RpcBlock
}

/** The parent fields core's simulation needs, decoded from an RPC block. */
export function parentHeaderOf (block: RpcBlock): ParentHeader {
  const hex = block.hash.startsWith('0x') ? block.hash.slice(2) : block.hash
  return {
    number: BigInt(block.number),
    hash: Uint8Array.from(Buffer.from(hex, 'hex')),
    timestamp: BigInt(block.timestamp),
    gasLimit: BigInt(block.gasLimit),
    gasUsed: BigInt(block.gasUsed),
    baseFeePerGas: BigInt(block.baseFeePerGas ?? '0x0'),
    excessBlobGas: block.excessBlobGas != null ? BigInt(block.excessBlobGas) : undefined,
    blobGasUsed: block.blobGasUsed != null ? BigInt(block.blobGasUsed) : undefined
  }
}
