/**
 * src/beacon — the consensus-layer bridge: a beacon node's standard API (genesis, spec and the
 * `payload_attributes` event stream, through `@lodestar/api`), the slot clock it defines, and each
 * slot's environment (timestamp, prevRandao, the proposer's fee recipient, withdrawals, the parent
 * beacon root) as the consensus layer gives it. The only source of slot environments in production.
 * May import src/proto only.
 */
export * from './errors.ts'
export * from './slot-clock.ts'
export * from './environment.ts'
export * from './beacon-view.ts'
