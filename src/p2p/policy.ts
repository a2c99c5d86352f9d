import { AdmissionPolicy, TdxQuoteVerifier } from '../enclave/index.ts'
import { fromHex } from '../proto/index.ts'
import type { Config } from '../config/index.ts'
import type { Role, TcbStatus } from '../enclave/index.ts'

/** One verifier per process: its verdict cache then serves every plane and connection. */
export function verifierFromConfig (config: Config): TdxQuoteVerifier {
  const a = config.attestation
  return new TdxQuoteVerifier({
    trustedRootDer: a.trustedRootCaDer != null ? new Uint8Array(Buffer.from(a.trustedRootCaDer, 'base64')) : undefined,
    allowedTcbStatuses: a.allowedTcbStatuses as TcbStatus[],
    minTcbEvaluationDataNumber: a.minTcbEvaluationDataNumber
  })
}

/** The admission policy a plane applies, from the config and the roles the plane accepts. */
export function policyFromConfig (config: Config, accept: Role[], verifier = verifierFromConfig(config)): AdmissionPolicy {
  const pins = config.attestation.rtmrPins
  return new AdmissionPolicy({
    accept,
    mrtdAcl: config.mrtdAcl,
    rtmrPins: pins == null
      ? undefined
      : Object.fromEntries(Object.entries(pins).filter(([, v]) => v != null).map(([k, v]) => [Number(k), fromHex(v as string)])),
    operatorJwtKey: config.operatorJwtKey,
    coBuilderJwtKey: config.coBuilderJwtKey,
    readTicketKey: config.readTicketKey,
    tickets: config.tickets,
    verifier
  })
}
