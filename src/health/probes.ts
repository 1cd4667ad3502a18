/**
 * The probe registry: a health-check doc's `type` names a factory here (a
 * map, not an if-ladder), so a new probe kind is one file plus one entry.
 */
import { HealthCheckSchema, type HealthCheckDoc } from '../config/schema.js';
import { createHttpProbe, httpProbeOptionsFromDoc } from './http-probe.js';
import { createTcpProbe, tcpProbeOptionsFromDoc } from './tcp-probe.js';
import type { Clock } from '../process/clock.js';
import type { ClosableProbe } from './types.js';

/** ProbeExtras are the runtime inputs a doc cannot carry. */
export interface ProbeExtras {
  /** tls trusts a private CA (`ca` is PEM contents: read the upstream's `tls.ca` file first) or names the certificate to expect. */
  tls?: { ca?: string | Buffer; servername?: string };
  clock?: Clock;
}

/** PROBE_FACTORIES maps a health-check type to the factory that builds its probe. */
export const PROBE_FACTORIES: Readonly<Record<HealthCheckDoc['type'], (doc: Partial<HealthCheckDoc>, extras: ProbeExtras) => ClosableProbe>> = {
  http: (doc, extras) => createHttpProbe({ ...httpProbeOptionsFromDoc(doc), ...extras }),
  tcp: (doc, extras) => createTcpProbe({ ...tcpProbeOptionsFromDoc(doc), ...(extras.clock ? { clock: extras.clock } : {}) }),
};

/** probeFromDoc builds the probe a health-check doc describes (type defaults to `http`). */
export function probeFromDoc(doc: Partial<HealthCheckDoc>, extras: ProbeExtras = {}): ClosableProbe {
  const type = doc.type ?? (HealthCheckSchema.properties.type.default as HealthCheckDoc['type']);
  return PROBE_FACTORIES[type](doc, extras);
}
