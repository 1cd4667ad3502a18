/**
 * The ip-filter plugin's options and manifest: what the registry knows of
 * the plugin before its code is loaded (src/plugins/builtins.ts).
 */
import { Type } from '@sinclair/typebox';

/** IpFilterOptions is the schema of the ip-filter plugin's options. */
export const IpFilterOptions = Type.Object({
  allow: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'Addresses or CIDRs allowed (when not empty, every other address is denied), e.g. [10.0.0.0/8, "2001:db8::/32"].' }),
  deny: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'Addresses or CIDRs denied (wins over allow).' }),
});

/** manifest names and describes the plugin and holds its options schema. */
export const manifest = {
  name: 'ip-filter',
  description: 'Allow or deny requests by client address (IPv4/IPv6 addresses and CIDRs).',
  options: IpFilterOptions,
};
