/**
 * Who leads a slot: member `slot mod n` first, then the next members in roster order, each allowed to
 * take over once the previous one has had `leaderTimeoutMs` without a sealed candidate.
 */
export function leaderOrder (slot: number, committeeSize: number): number[] {
  return Array.from({ length: committeeSize }, (_, k) => (slot + k) % committeeSize)
}

export function leaderFor (slot: number, committeeSize: number): number {
  return slot % committeeSize
}

/** The turn (0 = the leader) at which `member` may seal `slot`. */
export function takeoverRank (slot: number, committeeSize: number, member: number): number {
  return (member - (slot % committeeSize) + committeeSize) % committeeSize
}

/** The turn (0 = the opener) at which `member` may seal a slot `opener` opened. */
export function sealRank (opener: number, committeeSize: number, member: number): number {
  return (member - opener + committeeSize) % committeeSize
}
