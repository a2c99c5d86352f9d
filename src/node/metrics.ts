/** The member's Prometheus metrics (`/metrics`), one registry per node. */
import { createServer } from 'node:http'
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Server } from 'node:http'

export class NodeMetrics {
  readonly registry = new Registry()
  readonly slotsOpened = new Counter({ name: 'atelier_slots_opened_total', help: 'slots this member opened as leader', registers: [this.registry] })
  readonly slotsSealed = new Counter({ name: 'atelier_slots_sealed_total', help: 'slots sealed (candidate stored)', registers: [this.registry] })
  readonly slotsMissed = new Counter({ name: 'atelier_slots_missed_total', help: 'slots garbage-collected without a candidate', registers: [this.registry] })
  readonly sealLatency = new Histogram({
    name: 'atelier_seal_latency_seconds',
    help: 'OpenSlot applied → candidate sealed',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: [this.registry]
  })

  readonly candidateValue = new Gauge({ name: 'atelier_candidate_value_wei', help: 'the value to its fee recipient of the last candidate this member sealed or adopted, wei', registers: [this.registry] })
  readonly candidateSigners = new Histogram({ name: 'atelier_candidate_signers', help: 'members whose signatures a sealed candidate aggregates', buckets: [1, 2, 3, 4, 5, 7, 10, 16, 32, 64], registers: [this.registry] })

  readonly simulationDivergence = new Counter({ name: 'simulation_divergence_total', help: 'simulation outputs that differ from the agreed one', registers: [this.registry] })
  readonly equivocations = new Counter({ name: 'atelier_equivocations_total', help: 'equivocation evidence recorded (a member signing two different roots for a slot where it may sign one), by kind and where it was seen', labelNames: ['kind', 'source'], registers: [this.registry] })
  readonly rosterMismatch = new Counter({ name: 'roster_mismatch_total', help: 'members announcing another config fingerprint', registers: [this.registry] })
  readonly admissions = new Counter({ name: 'atelier_admissions_total', help: 'admitted peers by plane and role', labelNames: ['plane', 'role'], registers: [this.registry] })
  readonly rejections = new Counter({ name: 'atelier_admission_rejections_total', help: 'refused peers by plane and reason code', labelNames: ['plane', 'reason'], registers: [this.registry] })
  readonly gossip = new Counter({ name: 'atelier_gossip_validation_total', help: 'gossip validation results', labelNames: ['topic', 'result'], registers: [this.registry] })
  readonly payloadAttributesRefusals = new Counter({ name: 'atelier_payload_attributes_refusals_total', help: 'slots refused because the leader\'s environment departs from this member\'s beacon node (or it never announced the slot), by code', labelNames: ['code'], registers: [this.registry] })
  readonly parentStateOpened = new Counter({ name: 'atelier_parent_state_opened_total', help: 'parent states opened, by path: warm (from this member\'s own simulation of that block) or proofs (from the chain RPC)', labelNames: ['path'], registers: [this.registry] })
  readonly parentStateRefusals = new Counter({ name: 'atelier_parent_state_refusals_total', help: 'slots refused because the chain RPC\'s parent state did not verify, by code', labelNames: ['code'], registers: [this.registry] })
  readonly connectionRefusals = new Counter({ name: 'atelier_connection_refusals_total', help: 'inbound connections refused or dropped before admission, by plane and reason (rate-limit, pending-per-host, pending-evicted, handshake-timeout)', labelNames: ['plane', 'reason'], registers: [this.registry] })
  readonly ingestionRefusals = new Counter({ name: 'atelier_ingestion_refusals_total', help: 'transactions refused at the ingestion gate, by reason code', labelNames: ['code'], registers: [this.registry] })
  readonly hints = new Counter({ name: 'atelier_hints_total', help: 'hints received over the hint stream', labelNames: ['result'], registers: [this.registry] })

  #server: Server | undefined
  readonly #planes: Registry[] = []

  constructor () {
    collectDefaultMetrics({ register: this.registry })
  }

  /** A registry for one plane's libp2p metrics, labelled with the plane's name. */
  planeRegistry (plane: string): Registry {
    const r = new Registry()
    r.setDefaultLabels({ plane })
    this.#planes.push(r)
    return r
  }

  /** Everything, in the Prometheus text format: ours, and both planes' libp2p metrics. */
  async text (): Promise<string> {
    const all = await Promise.all([this.registry, ...this.#planes].map(async r => r.getMetricsAsJSON()))
    return AggregatorRegistry.aggregate(all).metrics()
  }

  /** Serves `/metrics` on 127.0.0.1:`port` (0 = any free port); returns the port. */
  async serve (port: number, host = '127.0.0.1'): Promise<number> {
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end()
        return
      }
      this.text().then(text => {
        res.writeHead(200, { 'content-type': this.registry.contentType }).end(text)
      }, (err: Error) => { res.writeHead(500).end(err.message) })
    })
    this.#server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => { resolve() })
    })
    return (server.address() as { port: number }).port
  }

  async close (): Promise<void> {
    const server = this.#server
    if (server != null) {
      server.closeAllConnections()
      await new Promise(resolve => server.close(resolve))
    }
  }
}
