/**
 * A software test TD: a complete, private DCAP PKI (root CA → PCK CA → PCK leaf with Intel's SGX
 * extension, a TCB signing certificate, signed CRLs, signed TCB info and QE identity) that issues
 * byte-exact TDX v4 quotes. Its quotes pass the production verifier when, and only when, that verifier
 * is given this TD's root: tests and local testnets exercise the real verification path.
 *
 * A little past 300 lines: the PKI and the quote layout it signs are one piece, each part checked by
 * the verifier against the others.
 */
import { KeyObject, sign as cryptoSign } from 'node:crypto'
import { sha256 } from '@noble/hashes/sha2.js'
import {
  BasicConstraintsExtension, Extension, KeyUsageFlags, KeyUsagesExtension, X509Certificate, X509CertificateGenerator,
  X509CrlGenerator
} from '@peculiar/x509'
import { concatBytes, toHex } from '../proto/index.ts'
import { enumerated, integer, objectId, octetString, sequence } from './der.ts'
import { HEADER_BYTES, INTEL_QE_VENDOR_ID, QE_REPORT_BYTES, TD10_BODY_BYTES, TEE_TYPE_TDX } from './quote-parse.ts'
import type { Collateral } from './collateral.ts'
import type { TcbStatus } from './quote-verifier.ts'

const subtle = globalThis.crypto.subtle
/** WebCrypto wants bytes backed by a plain ArrayBuffer */
const own = (b: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(b)
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const
const SGX_OID = '1.2.840.113741.1.13.1'
const QE_MRSIGNER = 'DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5'
const QE_ISVPRODID = 2
const QE_ISVSVN = 4
const PCE_SVN = 11
const SGX_SVNS = [2, 2, 2, 2, 3, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0]
const TDX_SVNS = [5, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
const FMSPC = '00A06F000000'
const DAY = 86_400_000

export interface TestTdOptions {
  /** certificate validity (default: a day ago to ten years on) */
  certNotBefore?: Date
  certNotAfter?: Date
  /** collateral window: TCB info, QE identity and CRLs (default: an hour ago to 30 days on) */
  collateralIssued?: Date
  collateralNextUpdate?: Date
  /** status of the one TCB level the platform meets (default UpToDate) */
  tcbStatus?: TcbStatus
  /** list the PCK leaf in the PCK CRL */
  revokePck?: boolean
}

export interface TdMeasurements {
  mrTd: Uint8Array
  rtmr?: Uint8Array[]
  mrConfigId?: Uint8Array
  /** td_attributes (8 bytes); default SEPT_VE_DISABLE only */
  tdAttributes?: Uint8Array
}

/** What another process needs to issue quotes under the same PKI (a testnet shares one file). */
export interface TestTdExport {
  rootDer: string
  chainPem: string
  pckKey: string
  /** the quoting enclave's attestation key (PKCS#8), stable across quotes as a real QE's is */
  attestationKey: string
  collateral: Collateral
}

const b64 = (b: ArrayBuffer | Uint8Array): string => Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('base64')
const fromB64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'))

async function keyPair (): Promise<CryptoKeyPair> {
  return subtle.generateKey(EC, true, ['sign', 'verify'])
}

const keyObjects = new WeakMap<CryptoKey, KeyObject>()

/**
 * ECDSA P-256, raw r ‖ s. Synchronous on purpose: WebCrypto's sign completes on the thread pool and
 * its result then waits behind whatever the event loop is doing, which made a test-TD quote cost ~1 ms
 * inside a busy handshake instead of ~0.05 ms.
 */
async function signRaw (key: CryptoKey, data: Uint8Array): Promise<Uint8Array> {
  let k = keyObjects.get(key)
  if (k == null) {
    k = KeyObject.from(key)
    keyObjects.set(key, k)
  }
  return new Uint8Array(cryptoSign('sha256', data, { key: k, dsaEncoding: 'ieee-p1363' }))
}

function sgxExtension (): Extension {
  const tcb = sequence(
    ...SGX_SVNS.map((svn, i) => sequence(objectId(`${SGX_OID}.2.${i + 1}`), integer(svn))),
    sequence(objectId(`${SGX_OID}.2.17`), integer(PCE_SVN)),
    sequence(objectId(`${SGX_OID}.2.18`), octetString(Uint8Array.from(SGX_SVNS)))
  )
  const value = sequence(
    sequence(objectId(`${SGX_OID}.1`), octetString(new Uint8Array(16).fill(0x42))),
    sequence(objectId(`${SGX_OID}.2`), tcb),
    sequence(objectId(`${SGX_OID}.3`), octetString(new Uint8Array(2))),
    sequence(objectId(`${SGX_OID}.4`), octetString(Buffer.from(FMSPC, 'hex'))),
    sequence(objectId(`${SGX_OID}.5`), enumerated(0))
  )
  return new Extension(SGX_OID, false, own(value))
}

function tcbInfoJson (issued: Date, next: Date, status: TcbStatus): string {
  const components = (svns: number[]): Array<{ svn: number }> => svns.map(svn => ({ svn }))
  return JSON.stringify({
    id: 'TDX',
    version: 3,
    issueDate: issued.toISOString().replace(/\.\d+Z$/, 'Z'),
    nextUpdate: next.toISOString().replace(/\.\d+Z$/, 'Z'),
    fmspc: FMSPC,
    pceId: '0000',
    tcbType: 0,
    tcbEvaluationDataNumber: 17,
    tdxModule: { mrsigner: '00'.repeat(48), attributes: '0000000000000000', attributesMask: 'FFFFFFFFFFFFFFFF' },
    tdxModuleIdentities: [],
    tcbLevels: [{
      tcb: { sgxtcbcomponents: components(SGX_SVNS), pcesvn: PCE_SVN, tdxtcbcomponents: components(TDX_SVNS) },
      tcbDate: '2024-03-13T00:00:00Z',
      tcbStatus: status
    }]
  })
}

function qeIdentityJson (issued: Date, next: Date): string {
  return JSON.stringify({
    id: 'TD_QE',
    version: 2,
    issueDate: issued.toISOString().replace(/\.\d+Z$/, 'Z'),
    nextUpdate: next.toISOString().replace(/\.\d+Z$/, 'Z'),
    tcbEvaluationDataNumber: 17,
    miscselect: '00000000',
    miscselectMask: 'FFFFFFFF',
    attributes: '11000000000000000000000000000000',
    attributesMask: 'FBFFFFFFFFFFFFFF0000000000000000',
    mrsigner: QE_MRSIGNER,
    isvprodid: QE_ISVPRODID,
    tcbLevels: [{ tcb: { isvsvn: QE_ISVSVN }, tcbDate: '2024-03-13T00:00:00Z', tcbStatus: 'UpToDate' }]
  })
}

export class TestTd {
  readonly rootDer: Uint8Array
  readonly collateral: Collateral
  readonly #chainPem: string
  readonly #pckKey: CryptoKey
  readonly #attestation: CryptoKeyPair

  private constructor (rootDer: Uint8Array, collateral: Collateral, chainPem: string, pckKey: CryptoKey, attestation: CryptoKeyPair) {
    this.rootDer = rootDer
    this.collateral = collateral
    this.#chainPem = chainPem
    this.#pckKey = pckKey
    this.#attestation = attestation
  }

  static async create (options: TestTdOptions = {}): Promise<TestTd> {
    const now = Date.now()
    const notBefore = options.certNotBefore ?? new Date(now - DAY)
    const notAfter = options.certNotAfter ?? new Date(now + 3650 * DAY)
    const issued = options.collateralIssued ?? new Date(now - 3_600_000)
    const next = options.collateralNextUpdate ?? new Date(now + 30 * DAY)
    const [rootKeys, caKeys, pckKeys, tcbKeys] = await Promise.all([keyPair(), keyPair(), keyPair(), keyPair()])
    const rootName = 'CN=Atelier Test SGX Root CA, O=atelier test, C=XX'
    const caName = 'CN=Atelier Test PCK Platform CA, O=atelier test, C=XX'
    const caExtensions = [
      new BasicConstraintsExtension(true, 0, true),
      new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true)
    ]
    const root = await X509CertificateGenerator.createSelfSigned({
      serialNumber: '01', name: rootName, keys: rootKeys, notBefore, notAfter, signingAlgorithm: SIGN, extensions: caExtensions
    })
    const pckCa = await X509CertificateGenerator.create({
      serialNumber: '02',
      subject: caName,
      issuer: rootName,
      publicKey: caKeys.publicKey,
      signingKey: rootKeys.privateKey,
      notBefore,
      notAfter,
      signingAlgorithm: SIGN,
      extensions: caExtensions
    })
    const leafExtensions = [new KeyUsagesExtension(KeyUsageFlags.digitalSignature | KeyUsageFlags.nonRepudiation, true), sgxExtension()]
    const pck = await X509CertificateGenerator.create({
      serialNumber: '03',
      subject: 'CN=Atelier Test PCK Certificate, O=atelier test, C=XX',
      issuer: caName,
      publicKey: pckKeys.publicKey,
      signingKey: caKeys.privateKey,
      notBefore,
      notAfter,
      signingAlgorithm: SIGN,
      extensions: leafExtensions
    })
    const tcbSigner = await X509CertificateGenerator.create({
      serialNumber: '04',
      subject: 'CN=Atelier Test TCB Signing, O=atelier test, C=XX',
      issuer: rootName,
      publicKey: tcbKeys.publicKey,
      signingKey: rootKeys.privateKey,
      notBefore,
      notAfter,
      signingAlgorithm: SIGN,
      extensions: [new KeyUsagesExtension(KeyUsageFlags.digitalSignature | KeyUsageFlags.nonRepudiation, true)]
    })
    const rootCrl = await X509CrlGenerator.create({ issuer: rootName, thisUpdate: issued, nextUpdate: next, signingKey: rootKeys.privateKey, signingAlgorithm: SIGN })
    const pckCrl = await X509CrlGenerator.create({
      issuer: caName,
      thisUpdate: issued,
      nextUpdate: next,
      signingKey: caKeys.privateKey,
      signingAlgorithm: SIGN,
      entries: options.revokePck === true ? [{ serialNumber: pck.serialNumber, revocationDate: issued }] : []
    })
    const tcbInfo = tcbInfoJson(issued, next, options.tcbStatus ?? 'UpToDate')
    const qeIdentity = qeIdentityJson(issued, next)
    const tcbChain = tcbSigner.toString('pem') + '\n' + root.toString('pem') + '\n'
    const collateral: Collateral = {
      pck_crl_issuer_chain: pckCa.toString('pem') + '\n' + root.toString('pem') + '\n',
      root_ca_crl: toHex(new Uint8Array(rootCrl.rawData)),
      pck_crl: toHex(new Uint8Array(pckCrl.rawData)),
      tcb_info_issuer_chain: tcbChain,
      tcb_info: tcbInfo,
      tcb_info_signature: toHex(await signRaw(tcbKeys.privateKey, new TextEncoder().encode(tcbInfo))),
      qe_identity_issuer_chain: tcbChain,
      qe_identity: qeIdentity,
      qe_identity_signature: toHex(await signRaw(tcbKeys.privateKey, new TextEncoder().encode(qeIdentity)))
    }
    const chainPem = [pck, pckCa, root].map(c => c.toString('pem')).join('\n') + '\n'
    return new TestTd(new Uint8Array(root.rawData), collateral, chainPem, pckKeys.privateKey, await keyPair())
  }

  async export (): Promise<TestTdExport> {
    return {
      rootDer: b64(this.rootDer),
      chainPem: this.#chainPem,
      pckKey: b64(await subtle.exportKey('pkcs8', this.#pckKey)),
      attestationKey: b64(await subtle.exportKey('pkcs8', this.#attestation.privateKey)),
      collateral: this.collateral
    }
  }

  static async load (data: TestTdExport): Promise<TestTd> {
    const key = await subtle.importKey('pkcs8', own(fromB64(data.pckKey)), EC, true, ['sign'])
    // fail early on a file that is not what export() wrote
    void new X509Certificate(own(fromB64(data.rootDer)))
    const privateKey = await subtle.importKey('pkcs8', own(fromB64(data.attestationKey)), EC, true, ['sign'])
    // the public half, from the private key's JWK (WebCrypto cannot derive it directly)
    const { d: _d, ...publicJwk } = await subtle.exportKey('jwk', privateKey)
    const publicKey = await subtle.importKey('jwk', { ...publicJwk, key_ops: ['verify'] }, EC, true, ['verify'])
    return new TestTd(fromB64(data.rootDer), data.collateral, data.chainPem, key, { privateKey, publicKey })
  }

  #certification?: Promise<{ akRaw: Uint8Array, authData: Uint8Array, qeReport: Uint8Array, qeReportSignature: Uint8Array }>

  /**
   * The attestation key's certification: a QE report binding the key, signed by the PCK key — made
   * once per key, as the real quoting enclave does, so every quote of this TD carries the same one.
   */
  async #certifiedKey (): Promise<{ akRaw: Uint8Array, authData: Uint8Array, qeReport: Uint8Array, qeReportSignature: Uint8Array }> {
    this.#certification ??= (async () => {
      const akRaw = new Uint8Array(await subtle.exportKey('raw', this.#attestation.publicKey)).subarray(1)
      const authData = new Uint8Array(32).fill(0xad)
      const qeReport = new Uint8Array(QE_REPORT_BYTES)
      qeReport[48] = 0x11 // attributes, as the QE identity expects
      qeReport.set(Buffer.from(QE_MRSIGNER, 'hex'), 128)
      const qv = new DataView(qeReport.buffer)
      qv.setUint16(256, QE_ISVPRODID, true)
      qv.setUint16(258, QE_ISVSVN, true)
      qeReport.set(sha256(concatBytes(akRaw, authData)), 320)
      return { akRaw, authData, qeReport, qeReportSignature: await signRaw(this.#pckKey, qeReport) }
    })()
    return this.#certification
  }

  /** A TDX v4 quote over `reportData` (64 bytes) for a TD with these measurements. */
  async quote (reportData: Uint8Array, td: TdMeasurements): Promise<Uint8Array> {
    if (reportData.length !== 64) {
      throw new RangeError(`report_data is 64 bytes, got ${reportData.length}`)
    }
    const header = new Uint8Array(HEADER_BYTES)
    const hv = new DataView(header.buffer)
    hv.setUint16(0, 4, true)
    hv.setUint16(2, 2, true) // ECDSA-256 with P-256
    hv.setUint32(4, TEE_TYPE_TDX, true)
    hv.setUint16(10, PCE_SVN, true)
    header.set(INTEL_QE_VENDOR_ID, 12)

    const body = new Uint8Array(TD10_BODY_BYTES)
    body.set(Uint8Array.from(TDX_SVNS), 0)
    body.set(new Uint8Array(48).fill(0x5e), 16) // MRSEAM
    body.set(td.tdAttributes ?? Uint8Array.of(0, 0, 0, 0x10, 0, 0, 0, 0), 120)
    body.set(Uint8Array.of(0xe7, 0x02, 0x06, 0, 0, 0, 0, 0), 128) // XFAM
    body.set(td.mrTd, 136)
    if (td.mrConfigId != null) {
      body.set(td.mrConfigId, 184)
    }
    (td.rtmr ?? []).forEach((r, i) => { body.set(r, 328 + 48 * i) })
    body.set(reportData, 520)

    const { akRaw, authData, qeReport, qeReportSignature } = await this.#certifiedKey()
    const signed = concatBytes(header, body)
    const quoteSignature = await signRaw(this.#attestation.privateKey, signed)
    const chain = new TextEncoder().encode(this.#chainPem)
    const inner = concatBytes(u16(5), u32(chain.length), chain)
    const certData = concatBytes(qeReport, qeReportSignature, u16(authData.length), authData, inner)
    const sigData = concatBytes(quoteSignature, akRaw, u16(6), u32(certData.length), certData)
    return concatBytes(signed, u32(sigData.length), sigData)
  }
}

function u16 (n: number): Uint8Array {
  const b = new Uint8Array(2)
  new DataView(b.buffer).setUint16(0, n, true)
  return b
}

function u32 (n: number): Uint8Array {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n, true)
  return b
}
