/**
 * The check every member makes of a leader's OpenSlot before it signs: the environment (timestamp,
 * prevRandao, fee recipient, withdrawals, parent beacon root) must be the one this member's own
 * beacon node announced for that slot on that parent. The member waits up to
 * `payloadAttributesWaitMs` for its event (its beacon node may see the head a little later than the
 * leader's); no event in time, or a field that differs, refuses the slot with a typed reason.
 */
import { environmentMismatch } from '../../beacon/index.ts'
import { toHex } from '../../proto/index.ts'
import type { EnvironmentRefusal } from './simulator.ts'
import type { BeaconView } from '../../beacon/index.ts'
import type { OpenSlotValue } from '../../proto/index.ts'

export function environmentCheck (view: BeaconView, waitMs: number): (open: OpenSlotValue) => Promise<EnvironmentRefusal | undefined> {
  return async open => {
    const parentHash = `0x${toHex(open.parent)}`
    const env = await view.wait(open.slot, parentHash, waitMs)
    if (env == null) {
      return { code: 'payload-attributes-missing', message: `the beacon node at ${view.url} announced no payload attributes for slot ${open.slot} on parent ${parentHash.slice(0, 18)}… within ${waitMs} ms` }
    }
    const mismatch = environmentMismatch(open, env)
    return mismatch == null ? undefined : { code: 'payload-attributes-mismatch', message: `slot ${open.slot}: ${mismatch}` }
  }
}
