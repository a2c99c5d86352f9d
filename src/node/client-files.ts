/**
 * A client ticket file (co-builders and readers): the libp2p identity the ticket was issued for and the
 * JWT itself, `{ "identity": "<base64 protobuf private key>", "jwt": "<ticket>" }`, mode 0600.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'

export interface ClientTicket {
  privateKey: PrivateKey
  jwt: string
}

export async function readClientTicket (path: string): Promise<ClientTicket> {
  let json: { identity?: unknown, jwt?: unknown }
  try {
    json = JSON.parse(await readFile(path, 'utf8'))
  } catch (err) {
    throw new Error(`ticket file ${path}: ${(err as Error).message}`)
  }
  if (typeof json.identity !== 'string' || typeof json.jwt !== 'string') {
    throw new Error(`ticket file ${path}: expected { "identity": "<base64 libp2p private key>", "jwt": "<ticket>" }`)
  }
  return { privateKey: privateKeyFromProtobuf(Buffer.from(json.identity, 'base64')), jwt: json.jwt }
}

export async function writeClientTicket (path: string, privateKey: PrivateKey, jwt: string): Promise<void> {
  await writeFile(path, JSON.stringify({ identity: Buffer.from(privateKeyToProtobuf(privateKey)).toString('base64'), jwt }, null, 2) + '\n', { mode: 0o600 })
}
