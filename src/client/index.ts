/**
 * `switchyard-gateway/client`: Ribbon for Node services. A service calls the
 * instances of another application directly (east–west, no proxy hop),
 * found through the gateway's registry (or a Eureka server, DNS, or a fixed
 * list) and balanced, health-checked and retried by the gateway's own
 * modules; and it registers itself so others can call it.
 *
 * This file is the whole public surface: what it does not export is private
 * and may change. Reference: docs/client.md.
 */
export { createClient, type Client } from './client.js';
export { registerInstance, type Lease } from './register.js';
export type { ClientResponse, RequestBody, RequestOptions } from './call.js';
export type { HeadersInput, IncomingLike } from './propagation.js';
export type { ClientOptions, DiscoveryOptions, DnsAppOptions, Duration, EurekaSourceOptions, RegisterOptions, TargetOptions } from './types.js';
export {
  ClientClosedError,
  ClientError,
  DiscoveryUnavailableError,
  InvalidOptionsError,
  NoInstancesError,
  RegistrationError,
  UpstreamError,
  type ClientErrorCode,
} from './errors.js';
