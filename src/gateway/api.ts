/**
 * The gateway as embedders see it (`createGateway` in the package's main
 * entry): start, reload, stop and ask whether it is ready, nothing more. The
 * Gateway class (gateway.ts) carries much more — its runtime, observer, admin
 * adapters — for the CLI, the admin API and the tests; none of that is part
 * of the published surface, so it can change without a major version.
 */
import type { Logger } from 'pino';
import type { LoadOptions } from '../config/load.js';
import { createGateway as createFullGateway } from './gateway.js';
import type { ReloadResult } from './state.js';

export type { ReloadResult };

/**
 * GatewayOptions says where an embedded gateway's configuration comes from:
 * a `configFile` path, or inline `gateway`/`routeFiles` documents (objects or
 * YAML text), plus an optional pino `logger` replacing the one gateway.yaml's
 * `log` block would build.
 */
export type GatewayOptions = LoadOptions & {
  /** logger replaces the logger built from `log` in gateway.yaml. */
  logger?: Logger;
};

/** ListeningPorts are the ports a gateway listens on once `listen()` resolves (useful with port 0). */
export interface ListeningPorts {
  /** port is the public listener's port. */
  port: number;
  /** adminPort is the admin API's port, undefined when the admin API is off. */
  adminPort: number | undefined;
  /** redirectPort is the HTTP-to-HTTPS redirect listener's port, when TLS has one. */
  redirectPort?: number;
}

/** Gateway is a gateway made by createGateway: loaded and compiled, listening once `listen()` resolves. */
export interface Gateway {
  /** listen starts the public (and admin) listeners; rejects when a port is taken. */
  listen(): Promise<ListeningPorts>;
  /** reload loads the configuration again and swaps it in only when it is valid in full; concurrent calls share one reload. */
  reload(): Promise<ReloadResult>;
  /** close stops accepting, lets in-flight requests finish (up to `shutdownTimeout`), and releases everything. */
  close(): Promise<void>;
  /** readiness lists the readiness checks (config, listening, accepting, and redis when configured); ready when all are true. */
  readiness(): Record<string, boolean>;
  /** port is the public listener's port after `listen()` (0 before). */
  readonly port: number;
}

/** createGateway loads and compiles the configuration (rejecting with ConfigInvalid listing every problem) and returns a gateway ready to listen(). */
export const createGateway: (options: GatewayOptions) => Promise<Gateway> = createFullGateway;
