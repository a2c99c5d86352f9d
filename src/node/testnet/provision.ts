/**
 * A local testnet's provisioning: the software test TD, the three ticket issuers (operators,
 * co-builders, readers), each member's key directory and operator tickets, and the config that pins
 * them all — written to disk as an operator would have them, so members run as plain `atelier node`
 * processes. Key rotation retires the lattice (a new `ATELIER_ROOT`), as the design's rotation does.
 *
 * Owns TestnetProvision.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { exportJWK, generateKeyPair as generateJwkPair } from 'jose'
import { parseConfig } from '../../config/index.ts'
import { FileKeyStore, issueTicket } from '../../enclave/index.ts'
import { TestTd } from '../../enclave/testing.ts'
import { toHex } from '../../proto/index.ts'
import type { Config, ConfigJson } from '../../config/index.ts'
import type { MemberKeys } from '../../enclave/index.ts'
import type { PrivateKey } from '@libp2p/interface'
import type { JWK } from 'jose'

interface Issuer { publicJwk: JWK, privateJwk: JWK }

/** the MR_TD the testnet's software TD claims and its config allows */
export const TESTNET_MRTD = 'a7'.repeat(48)
const LATTICE = 'atelier-testnet'

async function issuer (): Promise<Issuer> {
  const { publicKey, privateKey } = await generateJwkPair('EdDSA', { extractable: true })
  return { publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) }
}

const nowSecs = (): number => Math.floor(Date.now() / 1000)

export interface ProvisionOptions {
  dir: string
  members: number
  chainRpc: string
  /** seconds between blocks: sets the leader timeout */
  blockTime: number
  /** the chain's rules, pinned in the config (into ATELIER_ROOT) */
  chain?: ConfigJson['chain']
  tuning?: ConfigJson['tuning']
}

export class TestnetProvision {
  readonly dir: string
  readonly td: TestTd
  readonly testTdPath: string
  readonly configPath: string
  config!: Config
  readonly #o: ProvisionOptions
  readonly #operator: Issuer
  readonly #cobuilder: Issuer
  readonly #reader: Issuer
  readonly #keys: MemberKeys[] = []
  #lattice = LATTICE

  private constructor (o: ProvisionOptions, td: TestTd, issuers: [Issuer, Issuer, Issuer]) {
    this.#o = o
    this.dir = o.dir
    this.td = td
    ;[this.#operator, this.#cobuilder, this.#reader] = issuers
    this.testTdPath = join(o.dir, 'test-td.json')
    this.configPath = join(o.dir, 'config.json')
  }

  /** Makes the TD, the issuers, every member's keys and tickets, and the config. */
  static async create (o: ProvisionOptions): Promise<TestnetProvision> {
    const td = await TestTd.create()
    const p = new TestnetProvision(o, td, await Promise.all([issuer(), issuer(), issuer()]))
    await writeFile(p.testTdPath, JSON.stringify(await td.export()), { mode: 0o600 })
    for (let i = 0; i < o.members; i++) {
      p.#keys.push(await new FileKeyStore(p.keysDir(i)).create({ force: true }))
    }
    await p.#writeConfig()
    for (let i = 0; i < o.members; i++) {
      await p.#writeTickets(i)
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
    return issueTicket({ role: 'member', subject: peerId, expiresAt: nowSecs() + ttl }, this.#operator.privateJwk)
  }

  /** A fresh identity with a ticket for a reader or a co-builder. */
  async clientKey (role: 'reader' | 'cobuilder', ttl = 86_400): Promise<{ key: PrivateKey, jwt: string }> {
    const key = await generateKeyPair('Ed25519')
    const jwt = await issueTicket({ role, subject: peerIdFromPrivateKey(key).toString(), expiresAt: nowSecs() + ttl },
      (role === 'reader' ? this.#reader : this.#cobuilder).privateJwk)
    return { key, jwt }
  }

  /** Rotates member `i`'s BLS key and retires the lattice: a new roster, a new `ATELIER_ROOT`. */
  async rotateKey (i: number): Promise<{ before: Config, after: Config }> {
    const before = this.config
    this.#keys[i] = await new FileKeyStore(this.keysDir(i)).rotateBls()
    const generation = /\.r(\d+)$/.exec(this.#lattice)
    this.#lattice = `${LATTICE}.r${generation == null ? 1 : Number(generation[1]) + 1}`
    await this.#writeConfig()
    return { before, after: this.config }
  }

  async #writeConfig (): Promise<void> {
    const json: ConfigJson = {
      lattice: this.#lattice,
      blockSchema: 'L1Post4844',
      mrtdAcl: [TESTNET_MRTD],
      chainRpc: this.#o.chainRpc,
      ...(this.#o.chain != null ? { chain: this.#o.chain } : {}),
      committee: this.#keys.map(k => ({ blsPublicKey: toHex(k.bls.publicKey), proofOfPossession: toHex(k.bls.proofOfPossession) })),
      operatorJwtKey: this.#operator.publicJwk as never,
      coBuilderJwtKey: this.#cobuilder.publicJwk as never,
      readTicketKey: this.#reader.publicJwk as never,
      attestation: { trustedRootCaDer: Buffer.from(this.td.rootDer).toString('base64') },
      tuning: {
        headPollMs: 100,
        leaderTimeoutMs: Math.max(500, Math.round(this.#o.blockTime * 600)),
        markDoneDepth: 16,
        rosterAnnounceMs: 2000,
        ...this.#o.tuning
      }
    }
    this.config = parseConfig(json)
    await writeFile(this.configPath, JSON.stringify(json, null, 2) + '\n')
  }

  async #writeTickets (i: number): Promise<void> {
    const k = this.#keys[i]
    const ticket = async (key: MemberKeys['privatePlane']): Promise<string> => this.operatorTicket(peerIdFromPrivateKey(key).toString(), 86_400)
    await writeFile(join(this.keysDir(i), 'tickets.json'), JSON.stringify({ private: await ticket(k.privatePlane), public: await ticket(k.publicPlane) }, null, 2) + '\n', { mode: 0o600 })
  }
}
