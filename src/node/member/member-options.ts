/**
 * What a member is started with (MemberNode.start): its config, keys and planes, its chain and beacon
 * endpoints, and the test-only hooks of a faulty image.
 */
import type { SimulationHook } from './simulator.ts'
import type { Config } from '../../config/index.ts'
import type { MemberKeys, QuoteProvider } from '../../enclave/index.ts'
import type { OpenSlotFieldsValue } from '../../proto/index.ts'
import type { Logger } from '../log.ts'

export interface MemberNodeOptions {
  config: Config
  keys: MemberKeys
  dataDir: string
  quoteProvider: QuoteProvider
  /** operator tickets for this member's two peer ids */
  operatorTickets: { private: string, public: string }
  listenPrivate?: string[]
  /** private-plane addresses announced to the committee instead of the listen ones (a NAT, a proxy) */
  announcePrivate?: string[]
  listenPublic?: string[]
  /** other members' private-plane multiaddrs; public planes are found through roster gossip */
  bootstrap?: string[]
  /** serve the ingestion JSON-RPC on 127.0.0.1:port (0 = any free port) */
  ingestionPort?: number
  /** serve Prometheus metrics on 127.0.0.1:port (0 = any free port) */
  metricsPort?: number
  logger?: Logger
  /**
   * this member's beacon node (REST API): the slot clock and every slot's environment come from its
   * `payload_attributes` events
   */
  beaconApi: string
  /** the extra data of the blocks this member leads (≤ 32 bytes; default `atelier`) */
  extraData?: Uint8Array
  /** the gas limit the blocks this member leads move toward (1/1024 of the parent's per block) */
  gasLimitTarget?: bigint
  /** start each parent from this member's own post-state where it holds it (default true; false: proofs only, for comparison) */
  warmState?: boolean
  /** test-only: a faulty image's simulation (a divergent member); never set in production */
  simulationHook?: SimulationHook
  /** test-only: a faulty image's opener, which signs these other OpenSlots too (an equivocating leader); never set in production */
  openHook?: OpenHook
}

/** test-only: what a faulty opener signs besides its OpenSlot */
export interface OpenHook {
  others(fields: OpenSlotFieldsValue): OpenSlotFieldsValue[]
}
