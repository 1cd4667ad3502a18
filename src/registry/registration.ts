/**
 * Reading a registration body (`POST /apps/{APP}`) into an InstanceRecord, or
 * a refusal with its reason. The body is Eureka's InstanceInfo JSON as
 * eureka-js-client and Spring's client write it: `{ "instance": {...} }`, ports
 * as a number, a numeric string or `{ "$": 8080, "@enabled": "true" }`,
 * timestamps as numbers or strings. Known fields only: an unknown key is an
 * error (a misspelt field must not be dropped silently), while the values
 * Eureka clients send loosely (strings for numbers and booleans) are accepted.
 *
 * The check is compiled once (TypeBox's compiler) and does not coerce or strip,
 * unlike fastify's default Ajv settings (removeAdditional, coerceTypes), which
 * is why the route takes the parsed body as is and validates here.
 */
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { AddressPolicy } from './address-policy.js';
import { APP_PATTERN, EUREKA_STATUSES, INSTANCE_ID_PATTERN, metadataSize, type EurekaStatus, type InstanceRecord } from './instance.js';

const Str = (max: number) => Type.String({ maxLength: max });
const Num = Type.Union([Type.Integer(), Type.String({ pattern: '^-?\\d{1,16}$' })]);
const Bool = Type.Union([Type.Boolean(), Type.Literal('true'), Type.Literal('false')]);
const Port = Type.Union([
  Num,
  Type.Object({ $: Num, '@enabled': Type.Optional(Bool) }, { additionalProperties: false }),
]);
const Status = Type.Union(EUREKA_STATUSES.map((s) => Type.Literal(s)));
const StringMap = Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 65536 }));

const InstanceInfo = Type.Object(
  {
    instanceId: Type.Optional(Str(200)),
    hostName: Str(255),
    app: Type.Optional(Str(100)),
    appGroupName: Type.Optional(Type.Union([Str(100), Type.Null()])),
    ipAddr: Str(64),
    sid: Type.Optional(Str(64)),
    status: Type.Optional(Status),
    overriddenstatus: Type.Optional(Status),
    overriddenStatus: Type.Optional(Status),
    port: Type.Optional(Port),
    securePort: Type.Optional(Port),
    countryId: Type.Optional(Num),
    dataCenterInfo: Type.Object(
      { '@class': Str(200), name: Str(64), metadata: Type.Optional(StringMap) },
      { additionalProperties: false },
    ),
    leaseInfo: Type.Optional(
      Type.Object(
        {
          renewalIntervalInSecs: Type.Optional(Num),
          durationInSecs: Type.Optional(Num),
          registrationTimestamp: Type.Optional(Num),
          lastRenewalTimestamp: Type.Optional(Num),
          evictionTimestamp: Type.Optional(Num),
          serviceUpTimestamp: Type.Optional(Num),
        },
        { additionalProperties: false },
      ),
    ),
    metadata: Type.Optional(StringMap),
    homePageUrl: Type.Optional(Type.Union([Str(2048), Type.Null()])),
    statusPageUrl: Type.Optional(Type.Union([Str(2048), Type.Null()])),
    healthCheckUrl: Type.Optional(Type.Union([Str(2048), Type.Null()])),
    secureHealthCheckUrl: Type.Optional(Type.Union([Str(2048), Type.Null()])),
    vipAddress: Type.Optional(Type.Union([Str(255), Type.Null()])),
    secureVipAddress: Type.Optional(Type.Union([Str(255), Type.Null()])),
    isCoordinatingDiscoveryServer: Type.Optional(Bool),
    lastUpdatedTimestamp: Type.Optional(Num),
    lastDirtyTimestamp: Type.Optional(Num),
    actionType: Type.Optional(Str(16)),
    asgName: Type.Optional(Type.Union([Str(255), Type.Null()])),
  },
  { additionalProperties: false },
);

/** RegistrationBody is the strict shape of a registration: one key, `instance`. */
export const RegistrationBody = Type.Object({ instance: InstanceInfo }, { additionalProperties: false });
const check = TypeCompiler.Compile(RegistrationBody);

/** RefusalReason names why a registry write was refused (the metric label `reason`). */
export type RefusalReason = 'malformed' | 'target' | 'metadata' | 'app-full' | 'too-many-apps' | 'auth' | 'too-large';

/** ParsedRegistration is a registration read, or the reason it is refused. */
export type ParsedRegistration = { ok: true; record: InstanceRecord } | { ok: false; reason: RefusalReason; detail: string };

/** RegistrationLimits are the caps a registration must respect. */
export interface RegistrationLimits {
  readonly addresses: AddressPolicy;
  readonly maxMetadataKeys: number;
  readonly maxMetadataBytes: number;
  readonly renewalMs: number;
}

const num = (v: number | string | undefined, dflt: number): number => (v === undefined ? dflt : Number(v));
const bool = (v: boolean | string | undefined, dflt: boolean): boolean => (v === undefined ? dflt : v === true || v === 'true');
const opt = (v: string | null | undefined): string | undefined => (v === null || v === undefined || v === '' ? undefined : v);

function port(v: unknown, dfltPort: number, dfltEnabled: boolean): { port: number; enabled: boolean } {
  if (v === undefined) return { port: dfltPort, enabled: dfltEnabled };
  if (typeof v === 'object' && v !== null) {
    const o = v as { $: number | string; '@enabled'?: boolean | string };
    return { port: Number(o.$), enabled: bool(o['@enabled'], true) };
  }
  return { port: Number(v), enabled: true };
}

/** checkMetadata applies the metadata caps; returns the problem, or undefined. */
export function checkMetadata(m: Readonly<Record<string, string>>, limits: Pick<RegistrationLimits, 'maxMetadataKeys' | 'maxMetadataBytes'>): string | undefined {
  const keys = Object.keys(m).length;
  if (keys > limits.maxMetadataKeys) return `metadata has ${keys} keys (at most ${limits.maxMetadataKeys})`;
  const size = metadataSize(m);
  if (size > limits.maxMetadataBytes) return `metadata is ${size} bytes (at most ${limits.maxMetadataBytes})`;
  return undefined;
}

/** parseRegistration reads a registration body for the application in the path; `now` stamps it. */
export function parseRegistration(pathApp: string, body: unknown, limits: RegistrationLimits, now: number): ParsedRegistration {
  const app = pathApp.toUpperCase();
  if (!APP_PATTERN.test(pathApp)) return { ok: false, reason: 'malformed', detail: 'application name: letters, digits, "_", "." and "-", at most 100' };
  if (!check.Check(body)) {
    const e = check.Errors(body).First();
    return { ok: false, reason: 'malformed', detail: e ? `${e.path || '/'}: ${e.message}` : 'not an {"instance": {...}} object' };
  }
  const i = body.instance;
  if (i.app !== undefined && i.app.toUpperCase() !== app) return { ok: false, reason: 'malformed', detail: `instance.app "${i.app}" differs from the path's application` };
  const instanceId = i.instanceId || i.hostName; // eureka-js-client's rule when no instanceId is set
  if (!INSTANCE_ID_PATTERN.test(instanceId)) return { ok: false, reason: 'malformed', detail: 'instance id: letters, digits, "_", ".", ":", "@" and "-", at most 200' };
  if (!/^[A-Za-z0-9_.:%[\]-]{1,255}$/.test(i.hostName)) return { ok: false, reason: 'malformed', detail: 'hostName has characters outside a host name' };

  const verdict = limits.addresses.check(i.ipAddr);
  if (!verdict.ok) return { ok: false, reason: 'target', detail: verdict.reason };

  const plain = port(i.port, 7001, true); // Eureka's InstanceInfo defaults
  const secure = port(i.securePort, 7002, false);
  for (const [name, p] of [['port', plain], ['securePort', secure]] as const) {
    if (p.enabled && !(Number.isInteger(p.port) && p.port >= 1 && p.port <= 65535)) return { ok: false, reason: 'malformed', detail: `${name} must be 1..65535` };
  }
  if (!plain.enabled && !secure.enabled) return { ok: false, reason: 'malformed', detail: 'neither port nor securePort is enabled' };

  const metadata: Record<string, string> = { ...(i.metadata ?? {}) };
  delete metadata['@class']; // old Eureka clients write empty maps as {"@class": "java.util.Collections$EmptyMap"}
  const problem = checkMetadata(metadata, limits);
  if (problem) return { ok: false, reason: 'metadata', detail: problem };

  const status: EurekaStatus = i.status ?? 'UP';
  const renewalSecs = num(i.leaseInfo?.renewalIntervalInSecs, Math.max(1, Math.round(limits.renewalMs / 1000)));
  return {
    ok: true,
    record: {
      app,
      instanceId,
      hostName: i.hostName,
      ipAddr: verdict.ip,
      port: plain.port,
      portEnabled: plain.enabled,
      securePort: secure.port,
      securePortEnabled: secure.enabled,
      status,
      // The client's own overriddenStatus is not trusted: overrides are the operator's (PUT .../status).
      overriddenStatus: 'UNKNOWN',
      vipAddress: opt(i.vipAddress),
      secureVipAddress: opt(i.secureVipAddress),
      homePageUrl: opt(i.homePageUrl),
      statusPageUrl: opt(i.statusPageUrl),
      healthCheckUrl: opt(i.healthCheckUrl),
      secureHealthCheckUrl: opt(i.secureHealthCheckUrl),
      dataCenter: { class: i.dataCenterInfo['@class'], name: i.dataCenterInfo.name, metadata: i.dataCenterInfo.metadata },
      metadata,
      countryId: num(i.countryId, 1),
      renewalIntervalSecs: Number.isFinite(renewalSecs) && renewalSecs > 0 ? renewalSecs : 30,
      registeredAt: now,
      serviceUpAt: status === 'UP' ? now : 0,
      lastDirtyTimestamp: now,
      lastUpdatedTimestamp: now,
    },
  };
}
