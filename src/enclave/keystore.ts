/**
 * Member key custody: the BLS signing key (with its proof of possession) and the libp2p identities of
 * both planes. The file store keeps them in a directory, private files mode 0600; a real TD deployment
 * can keep them in memory only (MemoryKeyStore) or behind a sealing service implementing `KeyStore`.
 */
import { randomBytes } from 'node:crypto'
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { blsKeyFromSeed, blsProofOfPossession, fromHex, toHex } from '../proto/index.ts'
import { CodedError } from './errors.ts'
import type { PrivateKey } from '@libp2p/interface'

export interface MemberKeys {
  bls: { secretKey: Uint8Array, publicKey: Uint8Array, proofOfPossession: Uint8Array }
  privatePlane: PrivateKey
  publicPlane: PrivateKey
}

export interface MemberPublicValues {
  blsPublicKey: string
  proofOfPossession: string
  privatePeerId: string
  publicPeerId: string
}

export interface KeyStore {
  load(): Promise<MemberKeys>
}

export class KeyStoreError extends CodedError {}

export function newBlsKey (): MemberKeys['bls'] {
  const { secretKey, publicKey } = blsKeyFromSeed(randomBytes(32))
  return { secretKey, publicKey, proofOfPossession: blsProofOfPossession(secretKey) }
}

export async function generateMemberKeys (): Promise<MemberKeys> {
  return {
    bls: newBlsKey(),
    privatePlane: await generateKeyPair('Ed25519'),
    publicPlane: await generateKeyPair('Ed25519')
  }
}

export function publicValues (keys: MemberKeys): MemberPublicValues {
  return {
    blsPublicKey: toHex(keys.bls.publicKey),
    proofOfPossession: toHex(keys.bls.proofOfPossession),
    privatePeerId: peerIdFromPrivateKey(keys.privatePlane).toString(),
    publicPeerId: peerIdFromPrivateKey(keys.publicPlane).toString()
  }
}

/** Keys that exist only in this process (a TD that must not write secrets to its disk). */
export class MemoryKeyStore implements KeyStore {
  readonly #keys: MemberKeys

  constructor (keys: MemberKeys) {
    this.#keys = keys
  }

  async load (): Promise<MemberKeys> {
    return this.#keys
  }
}

const BLS_FILE = 'bls.json'
const IDENTITY_FILE = 'identity.json'
const PUBLIC_FILE = 'public.json'

/**
 * Keys in a directory: `bls.json` and `identity.json` (0600), `public.json` (what goes into the
 * config). Protects against other local users (file modes) and accidental overwrite; does not protect
 * against root on the host or a disk image taken from outside the TD: use a sealing KeyStore for that.
 */
export class FileKeyStore implements KeyStore {
  readonly dir: string

  constructor (dir: string) {
    this.dir = dir
  }

  async exists (): Promise<boolean> {
    return stat(join(this.dir, BLS_FILE)).then(() => true, () => false)
  }

  /** Creates all keys; refuses to replace existing ones unless `force`. */
  async create (options: { force?: boolean } = {}): Promise<MemberKeys> {
    if (options.force !== true && await this.exists()) {
      throw new KeyStoreError('keys-exist', `keys already exist in ${this.dir}; pass --force to overwrite them (the old BLS key is lost)`)
    }
    const keys = await generateMemberKeys()
    await this.#write(keys)
    return keys
  }

  /** Replaces the BLS key only; the old one is kept as `bls.<publicKey prefix>.retired.json`. */
  async rotateBls (): Promise<MemberKeys> {
    const old = await this.load()
    const keys = { ...old, bls: newBlsKey() }
    await rename(join(this.dir, BLS_FILE), join(this.dir, `bls.${toHex(old.bls.publicKey).slice(0, 16)}.retired.json`))
    await this.#write(keys)
    return keys
  }

  async load (): Promise<MemberKeys> {
    let bls, identity
    try {
      bls = JSON.parse(await readFile(join(this.dir, BLS_FILE), 'utf8'))
      identity = JSON.parse(await readFile(join(this.dir, IDENTITY_FILE), 'utf8'))
    } catch (err) {
      throw new KeyStoreError('keys-unreadable', `cannot read keys in ${this.dir}: ${(err as Error).message} (run: atelier keygen --out ${this.dir})`, { cause: err })
    }
    try {
      return {
        bls: { secretKey: fromHex(bls.secretKey), publicKey: fromHex(bls.publicKey), proofOfPossession: fromHex(bls.proofOfPossession) },
        privatePlane: privateKeyFromProtobuf(Buffer.from(identity.privatePlane, 'base64')),
        publicPlane: privateKeyFromProtobuf(Buffer.from(identity.publicPlane, 'base64'))
      }
    } catch (err) {
      throw new KeyStoreError('keys-malformed', `keys in ${this.dir} are malformed: ${(err as Error).message}`, { cause: err })
    }
  }

  async #write (keys: MemberKeys): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    const secret = async (name: string, value: unknown): Promise<void> => {
      const path = join(this.dir, name)
      await writeFile(path, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 })
      await chmod(path, 0o600)
    }
    await secret(BLS_FILE, {
      secretKey: toHex(keys.bls.secretKey), publicKey: toHex(keys.bls.publicKey), proofOfPossession: toHex(keys.bls.proofOfPossession)
    })
    await secret(IDENTITY_FILE, {
      privatePlane: Buffer.from(privateKeyToProtobuf(keys.privatePlane)).toString('base64'),
      publicPlane: Buffer.from(privateKeyToProtobuf(keys.publicPlane)).toString('base64')
    })
    await writeFile(join(this.dir, PUBLIC_FILE), JSON.stringify(publicValues(keys), null, 2) + '\n', { mode: 0o644 })
  }
}
