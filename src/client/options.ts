/**
 * The options of createClient and registerInstance, declared once as TypeBox
 * schemas and validated by the validator route files use
 * (src/config/validate.ts): the same wording, the same "did you mean", the
 * same defaults. Wherever a client option means what a route-file field
 * means (balancer, outlierDetection, retryBudget, timeouts, keepAlive,
 * panicThreshold, slowStart, a target, a DNS name), the schema IS the
 * route-file schema, imported, so the two cannot drift apart.
 *
 * Only data is validated: `logger` and `metrics` are objects, checked by type
 * in client.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DnsDiscover, DnsOptionsSchema } from '../config/discover.js';
import { ConfigError, NO_POSITION } from '../config/errors.js';
import { Duration } from '../config/duration.js';
import { OutlierDetectionSchema as OutlierDetection, RouteSchema as Route, Strict, TargetSchema as Target, UpstreamSchema as Upstream, UpstreamTimeoutsSchema as UpstreamTimeouts } from '../config/schema.js';
import { checkTargetUrl, compileValidator } from '../config/validate.js';
import { InvalidOptionsError } from './errors.js';

/** REGISTRY_DEFAULTS are the read defaults of `discovery.registry` (the gateway's registry is cheap to read: 5s, where Eureka clients poll every 30s). */
export const REGISTRY_DEFAULTS = { refresh: '5s', timeout: '5s' } as const;

const AppName = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
  description: 'Application name as registered (case-insensitive: Eureka stores it upper case).',
});

const RestUrl = (what: string) =>
  Type.String({ pattern: '^https?://', description: `Base URL of the ${what}'s Eureka REST API, e.g. http://user:pw@gateway:8761/eureka; \`user:password@\` in it is sent as Basic auth.` });

/**
 * EurekaSource is a registry read over Eureka's REST protocol: GET {url}/apps/{APP}
 * every `refresh`. Its durations are optional: inside the `registry` union Ajv
 * applies no defaults, so sources.ts fills the same ones (REGISTRY_DEFAULTS).
 */
const EurekaSource = (what: string, refresh: string) =>
  Strict(
    {
      url: RestUrl(what),
      refresh: Type.Optional(Duration({ description: 'Time between two reads of an application\'s instances (a dead instance is out at once anyway: calls to it fail over and eject it).', default: refresh })),
      timeout: Type.Optional(Duration({ description: 'A read that takes longer fails (the last known set stays).', default: '5s' })),
    },
    { description: `The ${what}, read like a Eureka client does.` },
  );

/** StaticTargets maps application names to fixed instance lists, written like a route file's `targets:`. */
const StaticTargets = Type.Record(AppName, Type.Array(Target, { minItems: 1 }), {
  description: 'Instances per application, e.g. { USERS: [{ url: "http://10.0.0.5:8080" }] }.',
});

/** DnsSource maps application names to DNS names: one instance per A/AAAA address. */
const DnsSource = Strict(
  {
    apps: Type.Record(AppName, DnsDiscover, { description: 'The DNS name (and port) of each application, e.g. { USERS: { name: users.internal, port: 8080 } }.' }),
    scheme: Type.Union([Type.Literal('http'), Type.Literal('https')], { default: 'http', description: 'Scheme of every DNS-discovered instance.' }),
    resolver: Type.Optional(DnsOptionsSchema),
  },
  { description: 'DNS discovery: one instance per A/AAAA record of each application\'s name.' },
);

/** Discovery is where instances come from: exactly one source. */
const Discovery = Strict(
  {
    registry: Type.Optional(Type.Union([RestUrl('gateway\'s registry'), EurekaSource('gateway\'s registry', REGISTRY_DEFAULTS.refresh)], { description: 'The gateway\'s registry: its URL, or { url, refresh, timeout }.' })),
    eureka: Type.Optional(EurekaSource('Eureka server', '30s')),
    dns: Type.Optional(DnsSource),
    targets: Type.Optional(StaticTargets),
  },
  { minProperties: 1, maxProperties: 1, description: 'Where instances come from: exactly one of registry, eureka, dns, targets.' },
);

const routeRetry = Route.properties.retry.properties;
const upstream = Upstream.properties;

/** ClientOptionsSchema is createClient's options, as data. */
export const ClientOptionsSchema = Strict(
  {
    discovery: Discovery,
    fallback: Type.Optional(
      Strict(
        { targets: StaticTargets },
        { description: 'Instances used for an application whose discovery fails before its first answer (replaced by the discovered ones as soon as discovery answers).' },
      ),
    ),
    balancer: upstream.balancer,
    outlierDetection: OutlierDetection,
    retry: Strict(
      { attempts: routeRetry.attempts, on: routeRetry.on },
      { default: {}, description: 'Retries on another instance: statuses are retried for idempotent methods with a replayable body, never after a timeout, within retryBudget. A request no byte of which reached an instance is retried for any method.' },
    ),
    retryBudget: upstream.retryBudget,
    timeouts: UpstreamTimeouts,
    keepAlive: upstream.keepAlive,
    panicThreshold: upstream.panicThreshold,
    slowStart: upstream.slowStart,
    startTimeout: Duration({ description: 'How long the first call to an application waits for discovery\'s first answer before DiscoveryUnavailableError (or the fallback).', default: '5s' }),
  },
  { description: 'createClient options.' },
);

/** ClientOptionsDoc is validated client options (defaults applied). */
export type ClientOptionsDoc = Static<typeof ClientOptionsSchema>;

/** RegisterOptionsSchema is registerInstance's options, as data. */
export const RegisterOptionsSchema = Strict(
  {
    registry: RestUrl('registry'),
    app: AppName,
    host: Type.Optional(Type.String({ minLength: 1, pattern: '^[^\\s/@?#]+$', description: 'The address other services dial (default: the first non-internal IPv4 address; in a container, the container\'s own).' })),
    port: Type.Integer({ minimum: 1, maximum: 65535, description: 'The port other services dial.' }),
    healthCheckPath: Type.Optional(Type.String({ pattern: '^/', description: 'Path of the health check, registered as healthCheckUrl.' })),
    metadata: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Metadata registered with the instance (`weight` becomes the balancer weight).' })),
    instanceId: Type.Optional(Type.String({ minLength: 1, pattern: '^[^\\s/?#]+$', description: 'Unique id of this instance (default host:app:port).' })),
    renewalInterval: Duration({ description: 'Time between heartbeats (Eureka\'s default: 30s).', default: '30s' }),
    leaseDuration: Duration({ description: 'How long the registry keeps the instance without a heartbeat (Eureka\'s default: 90s).', default: '90s' }),
    timeout: Duration({ description: 'A registry call that takes longer fails.', default: '5s' }),
  },
  { description: 'registerInstance options.' },
);

/** RegisterOptionsDoc is validated registration options (defaults applied). */
export type RegisterOptionsDoc = Static<typeof RegisterOptionsSchema>;

const checkClient = compileValidator(ClientOptionsSchema);
const checkRegister = compileValidator(RegisterOptionsSchema);

/** validateClientOptions validates a copy of `value` (defaults applied) or throws InvalidOptionsError listing every problem. */
export function validateClientOptions(value: unknown): ClientOptionsDoc {
  const doc = plainCopy(value, 'createClient options');
  const errors = checkClient(doc, { file: 'createClient options', locate: NO_POSITION });
  if (errors.length === 0) errors.push(...staticUrlErrors(doc as ClientOptionsDoc));
  if (errors.length > 0) throw new InvalidOptionsError(errors);
  return doc as ClientOptionsDoc;
}

/** validateRegisterOptions validates a copy of `value` (defaults applied) or throws InvalidOptionsError. */
export function validateRegisterOptions(value: unknown): RegisterOptionsDoc {
  const doc = plainCopy(value, 'registerInstance options');
  const errors = checkRegister(doc, { file: 'registerInstance options', locate: NO_POSITION });
  if (errors.length > 0) throw new InvalidOptionsError(errors);
  return doc as RegisterOptionsDoc;
}

/** plainCopy copies options before validation fills defaults in; a value that is not data (a function, a socket) is an options error, not a crash. */
function plainCopy(value: unknown, file: string): unknown {
  try {
    return structuredClone(value);
  } catch (err) {
    throw new InvalidOptionsError([new ConfigError({ file, line: 0, col: 0, path: '', message: `expected plain data (${(err as Error).message})` })]);
  }
}

/** staticUrlErrors checks every static instance url like a route file's target urls (no path, no credentials). */
function staticUrlErrors(doc: ClientOptionsDoc): ConfigError[] {
  const out: ConfigError[] = [];
  const lists: Array<[string, Record<string, Array<{ url: string }>> | undefined]> = [
    ['discovery.targets', doc.discovery.targets],
    ['fallback.targets', doc.fallback?.targets],
  ];
  for (const [where, byApp] of lists) {
    for (const [app, list] of Object.entries(byApp ?? {})) {
      list.forEach((t, i) => {
        const problem = checkTargetUrl(t.url);
        if (problem !== undefined) out.push(errorAtPath(`${where}.${app}[${i}].url`, problem));
      });
    }
  }
  return out;
}

function errorAtPath(path: string, message: string): ConfigError {
  return new ConfigError({ file: 'createClient options', line: 0, col: 0, path, message });
}
