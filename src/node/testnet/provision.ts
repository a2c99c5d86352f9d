/**
 * A local committee's provisioning: the software test TD, the three ticket issuers (operators,
 * co-builders, readers), each member's keys and operator tickets, and the config that pins them all
 * (`CommitteeSetup`, in memory: what in-process committees in tests use); and the testnet's
 * (`TestnetProvision`), which writes the same to disk as an operator would have them, so members run
 * as plain `atelier node` processes. Key rotation retires the lattice (a new `ATELIER_ROOT`), as the
 * design's rotation does.
 *
 * Owns CommitteeSetup and TestnetProvision.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { exportJWK, generateKeyPair as generateJwkPair } from 'jose'
import { parseConfig } from '../../config/index.ts'
import { FileKeyStore, generateMemberKeys, issueTicket } from '../../enclave/index.ts'
import { TestTd } from '../../enclave/testing.ts'
import { toHex } from '../../proto/index.ts'
import type { Config, ConfigJson } from '../../config/index.ts'
import type { MemberKeys } from '../../enclave/index.ts'
import type { PrivateKey } from '@libp2p/interface'
import type { JWK } from 'jose'

export interface Issuer { publicJwk: JWK, privateJwk: JWK }

/** the MR_TD the testnet's software TD claims and its config allows */
export const TESTNET_MRTD = 'a7'.repeat(48)
const LATTICE = 'atelier-testnet'

async function issuer (): Promise<Issuer> {
  const { publicKey, privateKey } = await generateJwkPair('EdDSA', { extractable: true })
  return { publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) }
}

const nowSecs = (): number => Math.floor(Date.now() / 1000)

export interface CommitteeSetupOptions {
  members: number
  chainRpc: string
  /** seconds per slot: sets the leader timeout */
  blockTime: number
  /** the chain's rules, pinned in the config (into ATELIER_ROOT) */
  chain?: ConfigJson['chain']
  tuning?: ConfigJson['tuning']
  /** the MR_TD the config allows (default TESTNET_MRTD) */
  mrtd?: string
  /** member `i`'s keys (default: generated in memory) */
  keys?(i: number): Promise<MemberKeys>
}

/** A committee's TD, issuers, keys and config, in memory. */
export class CommitteeSetup {
  readonly td: TestTd
  readonly operator: Issuer
  readonly cobuilder: Issuer
  readonly reader: Issuer
  readonly keys: MemberKeys[]
  configJson!: ConfigJson
  config!: Config
  readonly #o: CommitteeSetupOptions
  #lattice = LATTICE

  private constructor (o: CommitteeSetupOptions, td: TestTd, issuers: [Issuer, Issuer, Issuer], keys: MemberKeys[]) {
    this.#o = o
    this.td = td
    ;[this.operator, this.cobuilder, this.reader] = issuers
    this.keys = keys
    this.#pin()
  }

  static async create (o: CommitteeSetupOptions): Promise<CommitteeSetup> {
    const td = await TestTd.create()
    const issuers = await Promise.all([issuer(), issuer(), issuer()])
    const keys: MemberKeys[] = []
    for (let i = 0; i < o.members; i++) {
      keys.push(await (o.keys?.(i) ?? generateMemberKeys()))
    }
    return new CommitteeSetup(o, td, issuers, keys)
  }

  /** An operator (member) ticket for any peer id. */
  async operatorTicket (peerId: string, ttl = 86_400): Promise<string> {
    return issueTicket({ role: 'member', subject: peerId, expiresAt: nowSecs() + ttl }, this.operator.privateJwk)
  }

  /** Member `i`'s operator tickets for its two planes. */
  async memberTickets (i: number, ttl = 86_400): Promise<{ private: string, public: string }> {
    const k = this.keys[i]
    return {
      private: await this.operatorTicket(peerIdFromPrivateKey(k.privatePlane).toString(), ttl),
      public: await this.operatorTicket(peerIdFromPrivateKey(k.publicPlane).toString(), ttl)
    }
  }

  /** A fresh identity with a ticket for a reader or a co-builder. */
  async clientKey (role: 'reader' | 'cobuilder', ttl = 86_400): Promise<{ key: PrivateKey, jwt: string }> {
    const key = await generateKeyPair('Ed25519')
    const jwt = await issueTicket({ role, subject: peerIdFromPrivateKey(key).toString(), expiresAt: nowSecs() + ttl },
      (role === 'reader' ? this.reader : this.cobuilder).privateJwk)
    return { key, jwt }
  }

  /** Member `i` has new keys: a new roster, and (as the design's rotation does) a new lattice. */
  rotated (i: number, keys: MemberKeys): void {
    this.keys[i] = keys
    const generation = /\.r(\d+)$/.exec(this.#lattice)
    this.#lattice = `${LATTICE}.r${generation == null ? 1 : Number(generation[1]) + 1}`
    this.#pin()
  }

  #pin (): void {
    this.configJson = {
      lattice: this.#lattice,
      blockSchema: 'L1Post4844',
      mrtdAcl: [this.#o.mrtd ?? TESTNET_MRTD],
      chainRpc: this.#o.chainRpc,
      ...(this.#o.chain != null ? { chain: this.#o.chain } : {}),
      committee: this.keys.map(k => ({ blsPublicKey: toHex(k.bls.publicKey), proofOfPossession: toHex(k.bls.proofOfPossession) })),
      operatorJwtKey: this.operator.publicJwk as never,
      coBuilderJwtKey: this.cobuilder.publicJwk as never,
      readTicketKey: this.reader.publicJwk as never,
      attestation: { trustedRootCaDer: Buffer.from(this.td.rootDer).toString('base64') },
      tuning: {
        headPollMs: 100,
        leaderTimeoutMs: Math.max(500, Math.round(this.#o.blockTime * 600)),
        // a dead leader's slot is opened by the next member 0.3 of a slot into its building window,
        // and the one after it at 0.6: both leave time to seal before the proposal deadline
        openTimeoutMs: Math.max(100, Math.round(this.#o.blockTime * 300)),
        markDoneDepth: 16,
        rosterAnnounceMs: 2000,
        // every member, reader and co-builder of a loopback testnet dials from 127.0.0.1: one "host"
        maxPendingPerHost: 64,
        inboundConnectionsPerSecond: 200,
        ...this.#o.tuning
      }
    }
    this.config = parseConfig(this.configJson)
  }
}

export interface ProvisionOptions extends Omit<CommitteeSetupOptions, 'keys'> {
  dir: string
}

export class TestnetProvision {
  readonly dir: string
  readonly td: TestTd
  readonly testTdPath: string
  readonly configPath: string
  readonly #setup: CommitteeSetup

  private constructor (o: ProvisionOptions, setup: CommitteeSetup) {
    this.dir = o.dir
    this.#setup = setup
    this.td = setup.td
    this.testTdPath = join(o.dir, 'test-td.json')
    this.configPath = join(o.dir, 'config.json')
  }

  get config (): Config {
    return this.#setup.config
  }

  /** Makes the TD, the issuers, every member's key directory and tickets, and the config file. */
  static async create (o: ProvisionOptions): Promise<TestnetProvision> {
    const keysDir = (i: number): string => join(o.dir, `member-${i}`, 'keys')
    const setup = await CommitteeSetup.create({ ...o, keys: async i => new FileKeyStore(keysDir(i)).create({ force: true }) })
    const p = new TestnetProvision(o, setup)
    await writeFile(p.testTdPath, JSON.stringify(await setup.td.export()), { mode: 0o600 })
    await p.#writeConfig()
    for (let i = 0; i < o.members; i++) {
      await writeFile(join(p.keysDir(i), 'tickets.json'), JSON.stringify(await setup.memberTickets(i), null, 2) + '\n', { mode: 0o600 })
    }
    return p
  }

  keysDir (i: number): string {
    return join(this.dir, `member-${i}`, 'keys')
  }

  dataDir (i: number): string {
    return join(this.dir, `member-${i}`, 'data')
  }

  /** An operator (member) ticket for any peer id: for fault tests that need an intruder with a real ticket. */
  async operatorTicket (peerId: string, ttl: number): Promise<string> {
    return this.#setup.operatorTicket(peerId, ttl)
  }

  /** A fresh identity with a ticket for a reader or a co-builder. */
  async clientKey (role: 'reader' | 'cobuilder', ttl = 86_400): Promise<{ key: PrivateKey, jwt: string }> {
    return this.#setup.clientKey(role, ttl)
  }

  /** Rotates member `i`'s BLS key and retires the lattice: a new roster, a new `ATELIER_ROOT`. */
  async rotateKey (i: number): Promise<{ before: Config, after: Config }> {
    const before = this.config
    this.#setup.rotated(i, await new FileKeyStore(this.keysDir(i)).rotateBls())
    await this.#writeConfig()
    return { before, after: this.config }
  }

  async #writeConfig (): Promise<void> {
    await writeFile(this.configPath, JSON.stringify(this.#setup.configJson, null, 2) + '\n')
  }
}
