/**
 * Production TDX quote verification: Intel DCAP through `@phala/dcap-qvl`, plus the checks that library
 * skips (QE vendor, SEAM signer, QE report_data upper half, CRL signatures and dates, TCB status
 * allow-list, DEBUG, MR_TD acl, RTMR pins, report_data binding). The Intel SGX Root CA is pinned unless
 * the verifier is built with an explicit `trustedRootDer`.
 */
import { createHash, createPublicKey, verify as cryptoVerify } from 'node:crypto'
import { X509Certificate } from '@peculiar/x509'
import dcap from '@phala/dcap-qvl'
import { LRUCache } from 'lru-cache'
import { equalBytes, toHex } from '../proto/index.ts'
import { collateralNextUpdate, parseCollateral, parseCrl, parseDatedJson, pemCertificates } from './collateral.ts'
import { QuoteError } from './quote-errors.ts'
import { INTEL_QE_VENDOR_ID, parseQuote } from './quote-parse.ts'
import type { Collateral } from './collateral.ts'
import type { QuoteRejectCode } from './quote-errors.ts'
import type { ParsedQuote } from './quote-parse.ts'
import type { KeyObject } from 'node:crypto'

export type TcbStatus = 'UpToDate' | 'SWHardeningNeeded' | 'ConfigurationNeeded' | 'ConfigurationAndSWHardeningNeeded' |
'OutOfDate' | 'OutOfDateConfigurationNeeded' | 'Revoked' | 'Unknown'

export const TCB_STATUSES: readonly TcbStatus[] = ['UpToDate', 'SWHardeningNeeded', 'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded', 'OutOfDate', 'OutOfDateConfigurationNeeded', 'Revoked', 'Unknown']

/** DER of the Intel SGX Root CA that production quotes chain to. */
export const INTEL_SGX_ROOT_CA_DER: Uint8Array = new Uint8Array(dcap.QuoteVerifier.newProd().rootCaDer)

export interface QuoteVerifierOptions {
  /** DER of another root CA (tests, local testnets); the Intel root when absent */
  trustedRootDer?: Uint8Array
  /** default: UpToDate only */
  allowedTcbStatuses?: readonly TcbStatus[]
  /** refuse collateral older than this TCB evaluation data number */
  minTcbEvaluationDataNumber?: number
  /** verdicts kept, by quote and collateral hash; default 1024, 0 keeps none */
  cacheSize?: number
}

export interface QuoteExpectations {
  /** MR_TD must be one of these; omitted = MR_TD not checked */
  mrtdAcl?: readonly Uint8Array[]
  /** RTMR index → required value */
  rtmrPins?: Partial<Record<0 | 1 | 2 | 3, Uint8Array>>
  /** the 64-byte report_data the quote must carry (the handshake binding) */
  reportData?: Uint8Array
}

export interface VerifiedQuote {
  status: TcbStatus
  advisoryIds: string[]
  quote: ParsedQuote
  mrTd: Uint8Array
  rtmr: Uint8Array[]
  reportData: Uint8Array
  /** unix seconds after which the collateral behind this verdict is stale */
  validUntil: number
  /** true when the DCAP checks came from the verdict cache */
  cached: boolean
}

interface CachedVerdict {
  status: TcbStatus
  advisoryIds: string[]
  validUntil: number
  validFrom: number
  /** the platform's attestation key, imported once: every new quote of the platform is checked with it */
  attestationKey: KeyObject
}

/**
 * What the expensive part of DCAP verification depends on: the quoting enclave (attestation key, QE
 * report and its signature, auth data), the PCK chain, the collateral, the quote header and the TD's
 * TEE_TCB_SVN (which picks the TCB level). A new quote from the same platform — a fresh report_data
 * for every handshake — shares it, so only its own signature and body fields are checked again.
 */
function platformKey (q: ParsedQuote, quote: Uint8Array, collateral: Collateral): string {
  // node's sha256: this runs for every handshake, over several KiB of PEM and collateral
  return createHash('sha256')
    .update(quote.subarray(0, 48)).update(q.td.teeTcbSvn).update(q.attestationKey).update(q.qeReport)
    .update(q.qeReportSignature).update(q.qeAuthData).update(q.pckChainPem)
    .update(createHash('sha256').update(JSON.stringify(collateral)).digest())
    .digest('hex')
}

/** The quote's attestation key (raw x ‖ y) as a P-256 public key. */
function attestationKeyObject (raw: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: Buffer.from(raw.subarray(0, 32)).toString('base64url'), y: Buffer.from(raw.subarray(32, 64)).toString('base64url') },
    format: 'jwk'
  })
}

/** ECDSA P-256 over the signed region by the quote's attestation key (raw r ‖ s). */
function quoteSignatureValid (q: ParsedQuote, quote: Uint8Array, key: KeyObject): boolean {
  try {
    return cryptoVerify('sha256', quote.subarray(0, q.signedLength), { key, dsaEncoding: 'ieee-p1363' }, q.signature)
  } catch {
    return false
  }
}

/** The TD attribute rules dcap-qvl applies: no DEBUG, no reserved bits, SEPT_VE_DISABLE set. */
function checkTdAttributes (q: ParsedQuote): void {
  const a = q.td.tdAttributes
  if (a[0] !== 0) {
    throw new QuoteError('debug', 'TD runs with the DEBUG attribute: its memory is readable by the host')
  }
  const reservedLower = ((a[3] & 0x0f) << 16) | (a[2] << 8) | a[1]
  const reservedOther = ((a[7] & 0x7f) << 24) | (a[6] << 16) | (a[5] << 8) | a[4]
  if (reservedLower !== 0 || (a[3] & 0x20) !== 0 || reservedOther !== 0) {
    throw new QuoteError('td-attributes', 'reserved TD attribute bits are set')
  }
  if ((a[3] & 0x10) === 0) {
    throw new QuoteError('td-attributes', 'SEPT_VE_DISABLE is not set')
  }
  if (q.td.mrServiceTd != null && !q.td.mrServiceTd.every(b => b === 0)) {
    throw new QuoteError('td-attributes', 'mr_servicetd is not zero')
  }
}

const DCAP_REASONS: Array<[RegExp, QuoteRejectCode]> = [
  [/issue date is in the future/, 'collateral-not-yet-valid'],
  [/TCBInfo expired|QE Identity expired/, 'collateral-expired'],
  [/expired or not yet valid/, 'certificate-validity'],
  [/revoked/i, 'revoked'],
  [/Failed to verify certificate chain|CaUsedAsEndEntity|too short/, 'bad-certificate-chain'],
  [/invalid for tcb_info|invalid for qe_identity/, 'bad-collateral-signature'],
  [/invalid for qe_report/, 'bad-qe-report-signature'],
  [/QE report hash mismatch/, 'qe-report-binding'],
  [/QE (MRSIGNER|ISVPRODID|MISCSELECT|ATTRIBUTES|ISVSVN)|QE Identity id/, 'qe-identity'],
  [/ISV enclave report signature is invalid/, 'bad-signature'],
  [/Fmspc mismatch/, 'fmspc-mismatch'],
  [/TCB status is invalid|No matching TCB level/, 'tcb-status'],
  [/Debug mode/, 'debug'],
  [/Reserved bits|SEPT_VE_DISABLE|mr service td/, 'td-attributes'],
  [/decode|Unsupported/, 'malformed-quote']
]

function dcapError (err: unknown): QuoteError {
  const message = err instanceof Error ? err.message : String(err)
  const code = DCAP_REASONS.find(([re]) => re.test(message))?.[1] ?? 'verification-failed'
  return new QuoteError(code, `DCAP verification failed: ${message}`, { cause: err })
}

const ZERO = (b: Uint8Array): boolean => b.every(x => x === 0)

export class TdxQuoteVerifier {
  readonly trustedRootDer: Uint8Array
  readonly allowedTcbStatuses: readonly TcbStatus[]
  readonly minTcbEvaluationDataNumber: number
  readonly #dcap: InstanceType<typeof dcap.QuoteVerifier>
  readonly #root: X509Certificate
  /** least recently used out first; none when `cacheSize` is 0 */
  readonly #cache: LRUCache<string, CachedVerdict> | undefined

  constructor (options: QuoteVerifierOptions = {}) {
    this.trustedRootDer = options.trustedRootDer ?? INTEL_SGX_ROOT_CA_DER
    this.allowedTcbStatuses = options.allowedTcbStatuses ?? ['UpToDate']
    this.minTcbEvaluationDataNumber = options.minTcbEvaluationDataNumber ?? 0
    const cacheSize = options.cacheSize ?? 1024
    this.#cache = cacheSize > 0 ? new LRUCache({ max: cacheSize }) : undefined
    this.#dcap = dcap.QuoteVerifier.newWithRootCa(Buffer.from(this.trustedRootDer))
    this.#root = new X509Certificate(new Uint8Array(this.trustedRootDer))
  }

  get usesIntelRoot (): boolean {
    return equalBytes(this.trustedRootDer, INTEL_SGX_ROOT_CA_DER)
  }

  /**
   * Verifies `quote` under `collateral` at `now` (unix seconds, the verifier's own clock) and checks
   * `expect`. Throws `QuoteError` with a stable code.
   */
  async verify (quote: Uint8Array, collateralJson: unknown, now: number, expect: QuoteExpectations = {}): Promise<VerifiedQuote> {
    const parsed = parseQuote(quote)
    const collateral = parseCollateral(collateralJson)
    const key = platformKey(parsed, quote, collateral)
    let verdict = this.#cache?.get(key)
    const cached = verdict != null && now >= verdict.validFrom && now < verdict.validUntil
    if (cached) {
      this.#checkBody(parsed)
      if (!quoteSignatureValid(parsed, quote, (verdict as CachedVerdict).attestationKey)) {
        throw new QuoteError('bad-signature', 'the quote is not signed by its attestation key')
      }
    } else {
      verdict = await this.#verifyUncached(parsed, quote, collateral, now)
      this.#cache?.set(key, verdict)
    }
    const v = verdict as CachedVerdict
    this.#checkExpectations(parsed, expect)
    return {
      status: v.status,
      advisoryIds: v.advisoryIds,
      quote: parsed,
      mrTd: parsed.td.mrTd,
      rtmr: parsed.td.rtmr,
      reportData: parsed.td.reportData,
      validUntil: v.validUntil,
      cached
    }
  }

  /** The checks on fields of this quote alone (run for every quote, cached platform or not). */
  #checkBody (parsed: ParsedQuote): void {
    if (!equalBytes(parsed.qeVendorId, INTEL_QE_VENDOR_ID)) {
      throw new QuoteError('qe-vendor', `QE vendor id ${toHex(parsed.qeVendorId)} is not Intel's`)
    }
    if (!ZERO(parsed.td.mrSignerSeam) || !ZERO(parsed.td.seamAttributes)) {
      throw new QuoteError('seam-signer', 'mr_signer_seam and seam_attributes must be zero (Intel-signed TDX module)')
    }
    if (!ZERO(parsed.qeReportData.subarray(32))) {
      throw new QuoteError('qe-report-binding', 'upper 32 bytes of the QE report_data are not zero')
    }
    checkTdAttributes(parsed)
  }

  async #verifyUncached (parsed: ParsedQuote, quote: Uint8Array, collateral: Collateral, now: number): Promise<CachedVerdict> {
    this.#checkBody(parsed)
    const pck = pemCertificates(parsed.pckChainPem)
    this.#checkRoot(pck, 'the quote\'s PCK chain')
    this.#checkRoot(pemCertificates(collateral.tcb_info_issuer_chain), 'tcb_info_issuer_chain')
    this.#checkRoot(pemCertificates(collateral.qe_identity_issuer_chain), 'qe_identity_issuer_chain')
    await this.#checkCrls(collateral, pck, now)
    const tcbInfo = parseDatedJson(collateral.tcb_info, 'tcb_info')
    if ((tcbInfo.tcbEvaluationDataNumber ?? 0) < this.minTcbEvaluationDataNumber) {
      throw new QuoteError('tcb-evaluation-too-old', `tcbEvaluationDataNumber ${String(tcbInfo.tcbEvaluationDataNumber)} < required ${this.minTcbEvaluationDataNumber}`)
    }
    let report
    try {
      report = this.#dcap.verify(Buffer.from(quote.subarray(0, parsed.usedLength)), collateral, now)
    } catch (err) {
      throw dcapError(err)
    }
    const status = report.status as TcbStatus
    if (!this.allowedTcbStatuses.includes(status)) {
      throw new QuoteError('tcb-status', `TCB status ${status} is not allowed (allowed: ${this.allowedTcbStatuses.join(', ')})`)
    }
    const validFrom = Math.floor(Math.max(Date.parse(tcbInfo.issueDate), Date.parse(parseDatedJson(collateral.qe_identity, 'qe_identity').issueDate)) / 1000)
    const certsUntil = Math.min(...pck.map(c => Math.floor(c.notAfter.getTime() / 1000)))
    return { status, advisoryIds: report.advisory_ids, validFrom, validUntil: Math.min(collateralNextUpdate(collateral), certsUntil), attestationKey: attestationKeyObject(parsed.attestationKey) }
  }

  #checkRoot (chain: X509Certificate[], what: string): void {
    const last = chain.at(-1)
    if (last == null) {
      throw new QuoteError('bad-certificate-chain', `${what} has no certificate`)
    }
    if (!equalBytes(new Uint8Array(last.rawData), this.trustedRootDer)) {
      throw new QuoteError('untrusted-root', `${what} ends in "${last.subject}", not the pinned root${this.usesIntelRoot ? ' (Intel SGX Root CA)' : ''}`)
    }
  }

  /** dcap-qvl reads the CRLs only for serial numbers: check who signed them and that they are current. */
  async #checkCrls (collateral: Collateral, pck: X509Certificate[], now: number): Promise<void> {
    const rootCrl = parseCrl(collateral.root_ca_crl, 'root_ca_crl')
    const pckCrl = parseCrl(collateral.pck_crl, 'pck_crl')
    const pckIssuer = pck[1]
    if (pckIssuer == null) {
      throw new QuoteError('bad-certificate-chain', 'the quote\'s PCK chain has no intermediate CA')
    }
    for (const [crl, issuer, what] of [[rootCrl, this.#root, 'root CA CRL'], [pckCrl, pckIssuer, 'PCK CRL']] as const) {
      let ok = false
      try {
        ok = await crl.verify({ publicKey: issuer })
      } catch {
        ok = false
      }
      if (!ok) {
        throw new QuoteError('crl-signature', `${what} is not signed by "${issuer.subject}"`)
      }
      const at = now * 1000
      const window = `${what} is valid ${crl.thisUpdate.toISOString()} to ${crl.nextUpdate?.toISOString() ?? '?'}, not at ${new Date(at).toISOString()}`
      if (crl.thisUpdate.getTime() > at) {
        throw new QuoteError('collateral-not-yet-valid', window)
      }
      if (crl.nextUpdate != null && crl.nextUpdate.getTime() < at) {
        throw new QuoteError('collateral-expired', window)
      }
    }
    for (const cert of pck.slice(0, -1)) {
      if (pckCrl.findRevoked(cert) != null || rootCrl.findRevoked(cert) != null) {
        throw new QuoteError('revoked', `certificate "${cert.subject}" (serial ${cert.serialNumber}) is revoked`)
      }
    }
  }

  #checkExpectations (parsed: ParsedQuote, expect: QuoteExpectations): void {
    const td = parsed.td
    if (expect.mrtdAcl != null && !expect.mrtdAcl.some(m => equalBytes(m, td.mrTd))) {
      throw new QuoteError('mrtd-not-allowed', `MR_TD ${toHex(td.mrTd)} is not in the allow-list`)
    }
    for (const [index, pin] of Object.entries(expect.rtmrPins ?? {})) {
      if (pin != null && !equalBytes(pin, td.rtmr[Number(index)])) {
        throw new QuoteError('rtmr-mismatch', `RTMR${index} ${toHex(td.rtmr[Number(index)])} differs from the pinned ${toHex(pin)}`)
      }
    }
    if (expect.reportData != null && !equalBytes(expect.reportData, td.reportData)) {
      throw new QuoteError('binding-mismatch', 'report_data is not bound to this connection (keys or nonce differ)')
    }
  }
}
