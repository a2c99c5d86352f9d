/**
 * Pre-admission limits: what an inbound connection may hold before the attested handshake admits its
 * remote, and the count of every connection refused for it.
 *
 * The attack: a host opens TCP connections and never finishes the handshake. libp2p counts inbound
 * connections in upgrade against one global cap (`maxIncomingPendingConnections`, 10) and lets each wait
 * out the inbound upgrade timeout (10 s), so a handful of half-open connections, reopened as they close,
 * keeps every other dialer out — a restarted member stays isolated for as long as the attack lasts.
 *
 * The design, and why: a connection is *pending* from the moment libp2p accepts its socket until the
 * handshake admits its remote (`registry.record`) or it closes.
 * - Per remote host, at most `maxPendingPerHost` pending connections and `acceptsPerSecond` new ones
 * (this replaces libp2p's `inboundConnectionThreshold`, whose refusals nobody could count). A host is an
 * IPv4 address or an IPv6 /64: one machine usually owns a whole /64, so per-/128 limits bind nothing.
 * - Globally, at most `maxPendingTotal`. At the cap the newcomer is not refused: the oldest pending
 * connection of the host holding the most pending ones is aborted to make room. A flooding host thus
 * evicts its own connections; a lone honest dialer (one pending connection, finished in a round trip or
 * two) is never the victim while any host holds more. Refusing newcomers instead would hand the cap to
 * whoever fills it first — exactly the attack.
 * - Every stage must finish within `stageTimeoutMs`, well under the upgrade timeout: multistream-select
 * (timed here, from accept until the encrypter starts) and then each read of the attested handshake
 * (timed in attested-noise.ts), so a staller frees its slot in seconds, not ten.
 * libp2p's own pending cap is raised above ours (plane.ts) so that these limits are the ones that bind.
 *
 * Limits: an attacker with more hosts than `maxPendingTotal` / `maxPendingPerHost` (or one pending
 * connection on each of `maxPendingTotal` hosts) still forces evictions of the oldest pending
 * connections, honest ones included when they are the oldest; members then get in by retrying, since
 * their handshakes take a fraction of the stage deadline.
 */
import type { InboundHandshakeWatch } from './attested-noise.ts'
import type { ConnectionGater, MessageStream, MultiaddrConnection } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export const DEFAULT_MAX_PENDING_PER_HOST = 4
export const DEFAULT_MAX_PENDING_TOTAL = 64
export const DEFAULT_HANDSHAKE_STAGE_TIMEOUT_MS = 2000
/** libp2p's default `inboundConnectionThreshold`, kept */
export const DEFAULT_ACCEPTS_PER_SECOND = 5
export const REFUSAL_LOG_INTERVAL_MS = 10_000

export type RefusalReason = 'rate-limit' | 'pending-per-host' | 'pending-evicted' | 'handshake-timeout'

/**
 * One inbound connection refused before admission: over the host's accept rate (`rate-limit`), over its
 * pending cap (`pending-per-host`), aborted to make room at the global cap (`pending-evicted`), or a
 * handshake stage past its deadline (`handshake-timeout`). Emitted once per connection: count every one;
 * log only those with `logNow` (the first of its host in each log interval), with `suppressed`, the
 * number of that host's refusals since its last logged one.
 */
export interface RefusalEvent {
  reason: RefusalReason
  /** an IPv4 address, an IPv6 /64 (`2001:db8:0:1::/64`), or `unknown` */
  host: string
  logNow: boolean
  suppressed: number
}

export interface PreAdmissionOptions {
  maxPendingPerHost?: number
  maxPendingTotal?: number
  /** inbound connections accepted per second per host */
  acceptsPerSecond?: number
  /** deadline for multistream-select, from accept until the encrypter starts */
  stageTimeoutMs?: number
  logIntervalMs?: number
  onRefusal?(event: RefusalEvent): void
  /** milliseconds; for the rate windows and log intervals */
  nowMs?(): number
}

/** What pre-admission needs of libp2p's MultiaddrConnection (tests pass fakes). */
export interface PendingConnection {
  readonly remoteAddr: Multiaddr
  readonly status: string
  abort(err: Error): void
  addEventListener(type: 'close', listener: () => void): void
  removeEventListener(type: 'close', listener: () => void): void
}

interface Pending {
  conn: PendingConnection
  host: string
  /** acceptance order */
  seq: number
  timer?: NodeJS.Timeout
  onClose(): void
}

export class PreAdmission implements InboundHandshakeWatch {
  readonly maxPendingPerHost: number
  readonly maxPendingTotal: number
  readonly acceptsPerSecond: number
  readonly stageTimeoutMs: number
  readonly #logIntervalMs: number
  readonly #onRefusal?: (event: RefusalEvent) => void
  readonly #now: () => number
  /** per host, oldest first */
  readonly #byHost = new Map<string, Pending[]>()
  readonly #byConn = new Map<object, Pending>()
  readonly #accepts = new Map<string, { start: number, count: number }>()
  readonly #logs = new Map<string, { at: number, suppressed: number }>()
  #lastSweep = 0
  #seq = 0

  constructor (o: PreAdmissionOptions = {}) {
    this.maxPendingPerHost = o.maxPendingPerHost ?? DEFAULT_MAX_PENDING_PER_HOST
    this.maxPendingTotal = o.maxPendingTotal ?? DEFAULT_MAX_PENDING_TOTAL
    this.acceptsPerSecond = o.acceptsPerSecond ?? DEFAULT_ACCEPTS_PER_SECOND
    this.stageTimeoutMs = o.stageTimeoutMs ?? DEFAULT_HANDSHAKE_STAGE_TIMEOUT_MS
    this.#logIntervalMs = o.logIntervalMs ?? REFUSAL_LOG_INTERVAL_MS
    this.#onRefusal = o.onRefusal
    this.#now = o.nowMs ?? Date.now
  }

  get pending (): number {
    return this.#byConn.size
  }

  pendingOf (host: string): number {
    return this.#byHost.get(host)?.length ?? 0
  }

  /** `inner` with an inbound-connection check in front: the rest of its verdicts stay as they are. */
  gater (inner: ConnectionGater): ConnectionGater {
    return {
      ...inner,
      denyInboundConnection: (maConn: MultiaddrConnection) => this.deny(maConn) || (inner.denyInboundConnection?.(maConn) ?? false)
    }
  }

  /** libp2p's `denyInboundConnection`: true refuses the connection (libp2p then aborts it). */
  deny (conn: PendingConnection): boolean {
    // already gone: nothing to hold, and its 'close' has fired, so it must not be tracked
    if (conn.status !== 'open') {
      return false
    }
    const host = hostOf(conn.remoteAddr)
    const now = this.#now()
    this.#sweep(now)
    if (!this.#accept(host, now)) {
      this.#refuse('rate-limit', host, now)
      return true
    }
    if (this.pendingOf(host) >= this.maxPendingPerHost) {
      this.#refuse('pending-per-host', host, now)
      return true
    }
    if (this.#byConn.size >= this.maxPendingTotal) {
      this.#evict(now)
    }
    this.#track(conn, host)
    return false
  }

  /** The encrypter took the connection over: its own stage deadlines apply from here. */
  started (connection: MessageStream): void {
    const p = this.#byConn.get(connection)
    if (p != null) {
      clearTimeout(p.timer)
      p.timer = undefined
    }
  }

  admitted (connection: MessageStream): void {
    const p = this.#byConn.get(connection)
    if (p != null) {
      this.#untrack(p)
    }
  }

  /** A handshake stage ran past its deadline; the encrypter aborts the connection. */
  timedOut (connection: MessageStream): void {
    const p = this.#byConn.get(connection)
    const remote = (connection as Partial<PendingConnection>).remoteAddr
    const host = p?.host ?? (remote != null ? hostOf(remote) : 'unknown')
    if (p != null) {
      this.#untrack(p)
    }
    this.#refuse('handshake-timeout', host, this.#now())
  }

  stop (): void {
    for (const p of this.#byConn.values()) {
      clearTimeout(p.timer)
    }
  }

  #track (conn: PendingConnection, host: string): void {
    const p: Pending = {
      conn,
      host,
      seq: this.#seq++,
      onClose: () => {
        if (this.#byConn.get(conn) === p) {
          this.#untrack(p)
        }
      }
    }
    p.timer = setTimeout(() => {
      this.#untrack(p)
      this.#refuse('handshake-timeout', host, this.#now())
      conn.abort(Object.assign(new Error(`no encrypter selected within ${this.stageTimeoutMs} ms`), { name: 'TimeoutError' }))
    }, this.stageTimeoutMs)
    p.timer.unref()
    conn.addEventListener('close', p.onClose)
    this.#byConn.set(conn, p)
    const list = this.#byHost.get(host)
    if (list == null) {
      this.#byHost.set(host, [p])
    } else {
      list.push(p)
    }
  }

  #untrack (p: Pending): void {
    clearTimeout(p.timer)
    p.conn.removeEventListener('close', p.onClose)
    this.#byConn.delete(p.conn)
    const list = this.#byHost.get(p.host) ?? []
    const i = list.indexOf(p)
    if (i >= 0) {
      list.splice(i, 1)
    }
    if (list.length === 0) {
      this.#byHost.delete(p.host)
    }
  }

  /** Aborts the oldest pending connection of the host holding the most (the oldest such on a tie). */
  #evict (now: number): void {
    let victim: Pending | undefined
    for (const list of this.#byHost.values()) {
      const oldest = list[0]
      const most = victim == null ? 0 : this.pendingOf(victim.host)
      if (list.length > most || (list.length === most && victim != null && oldest.seq < victim.seq)) {
        victim = oldest
      }
    }
    if (victim == null) {
      return
    }
    this.#untrack(victim)
    this.#refuse('pending-evicted', victim.host, now)
    victim.conn.abort(new Error('evicted: too many inbound connections awaiting admission'))
  }

  /** A fixed one-second window per host, as libp2p's own rate limiter had it. */
  #accept (host: string, now: number): boolean {
    const w = this.#accepts.get(host)
    if (w == null || now - w.start >= 1000) {
      this.#accepts.set(host, { start: now, count: 1 })
      return this.acceptsPerSecond >= 1
    }
    w.count++
    return w.count <= this.acceptsPerSecond
  }

  #refuse (reason: RefusalReason, host: string, now: number): void {
    const log = this.#logs.get(host)
    let logNow = false
    let suppressed = 0
    if (log == null || now - log.at >= this.#logIntervalMs) {
      logNow = true
      suppressed = log?.suppressed ?? 0
      this.#logs.set(host, { at: now, suppressed: 0 })
    } else {
      log.suppressed++
    }
    this.#onRefusal?.({ reason, host, logNow, suppressed })
  }

  /** Forgets rate windows and quiet hosts' log state, at most once a second (hosts come and go). */
  #sweep (now: number): void {
    if (now - this.#lastSweep < 1000) {
      return
    }
    this.#lastSweep = now
    for (const [host, w] of this.#accepts) {
      if (now - w.start >= 1000) {
        this.#accepts.delete(host)
      }
    }
    for (const [host, l] of this.#logs) {
      // a host's unlogged count is kept a while for its next logged refusal to carry
      if (now - l.at >= (l.suppressed > 0 ? 10 : 1) * this.#logIntervalMs) {
        this.#logs.delete(host)
      }
    }
  }
}

/** The host a remote address counts against: its IPv4 address, or the /64 of its IPv6 address. */
export function hostOf (addr: Multiaddr): string {
  for (const c of addr.getComponents()) {
    if (c.name === 'ip4' && c.value != null) {
      return c.value
    }
    if (c.name === 'ip6' && c.value != null) {
      return ip6Host(c.value)
    }
  }
  return addr.toString()
}

/** An IPv4-mapped address (a dual-stack listener's IPv4 clients) is its IPv4 host; others, their /64. */
function ip6Host (ip: string): string {
  const bare = ip.split('%')[0].toLowerCase()
  const [head, tail] = bare.split('::')
  const split = (part: string | undefined): string[] => part == null || part === '' ? [] : part.split(':').flatMap(dotted)
  const h = split(head)
  const t = split(tail)
  const groups = (tail == null ? h : [...h, ...new Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t]).map(g => parseInt(g, 16))
  if (groups.length === 8 && groups.slice(0, 5).every(g => g === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join('.')
  }
  return `${groups.slice(0, 4).map(g => g.toString(16)).join(':')}::/64`
}

/** A dotted IPv4 tail (`::ffff:10.1.2.3`) as its two hex groups. */
function dotted (group: string): string[] {
  if (!group.includes('.')) {
    return [group]
  }
  const [a, b, c, d] = group.split('.').map(Number)
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)]
}
