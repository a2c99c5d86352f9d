/**
 * Where the testnet's members listen and how they reach each other. Each member keeps its ports
 * across restarts (a light subscriber redials the addresses it was given). With link proxies, every
 * member's private plane listens on its own port and announces none, and member i reaches member j
 * only through the proxy `i->j` (one per direction, link-proxy.ts), so a run can delay every link,
 * cut a set of members off from the rest in both directions, and heal.
 *
 * Owns MemberLinks.
 */
import { freePort } from './anvil.ts'
import { LinkProxy } from './link-proxy.ts'

export class MemberLinks {
  readonly #proxied: boolean
  /** member → its private plane's port (proxied runs only) */
  readonly #privatePorts = new Map<number, number>()
  /** member → its public plane's port */
  readonly #publicPorts = new Map<number, number>()
  /** `i->j` → the proxy member i dials member j through */
  readonly #links = new Map<string, LinkProxy>()

  constructor (proxied: boolean) {
    this.#proxied = proxied
  }

  get links (): ReadonlyMap<string, LinkProxy> {
    return this.#links
  }

  /** Ports for member `i`, and (proxied) a proxy each way between it and every member that has one. */
  async prepare (i: number): Promise<void> {
    if (!this.#publicPorts.has(i)) { this.#publicPorts.set(i, await freePort()) }
    if (!this.#proxied) { return }
    if (!this.#privatePorts.has(i)) { this.#privatePorts.set(i, await freePort()) }
    for (const [j, port] of this.#privatePorts) {
      if (j === i) { continue }
      for (const [from, to, target] of [[i, j, port], [j, i, this.#privatePorts.get(i) as number]]) {
        const key = `${from}->${to}`
        if (!this.#links.has(key)) { this.#links.set(key, await LinkProxy.start(target)) }
      }
    }
  }

  /**
   * Member `i`'s listen and announce options, and its bootstrap list: the other members' own addresses,
   * or (proxied) the pair's proxy with the other's private peer id.
   */
  args (i: number, others: Array<{ index: number, private: string[], privatePeerId: string }>): { listen: string[], bootstrap: string[] } {
    const publicPort = this.#publicPorts.get(i)
    const privatePort = this.#privatePorts.get(i)
    const listen = [
      ...(privatePort != null ? ['--listen-private', `/ip4/127.0.0.1/tcp/${privatePort}`, '--announce-private', 'none'] : []),
      ...(publicPort != null ? ['--listen-public', `/ip4/127.0.0.1/tcp/${publicPort}`] : [])
    ]
    const bootstrap = privatePort == null
      ? others.flatMap(m => m.private.slice(0, 1))
      : others.map(m => `/ip4/127.0.0.1/tcp/${this.#links.get(`${i}->${m.index}`)?.port ?? 0}/p2p/${m.privatePeerId}`)
    return { listen, bootstrap }
  }

  /** Cuts every link between `side` and the other members (both directions); `heal` restores them. */
  partition (side: number[]): void {
    for (const [key, proxy] of this.#links) {
      const [from, to] = key.split('->').map(Number)
      if (side.includes(from) !== side.includes(to)) { proxy.block() }
    }
  }

  heal (): void {
    for (const proxy of this.#links.values()) { proxy.unblock() }
  }

  /** Holds every chunk between any two members `ms` each way (a round trip of 2 × ms). */
  setDelay (ms: number): void {
    for (const proxy of this.#links.values()) { proxy.delayMs = ms }
  }

  async stop (): Promise<void> {
    await Promise.allSettled([...this.#links.values()].map(async l => l.stop()))
  }
}
