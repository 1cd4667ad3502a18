/**
 * A listener that cannot bind (port in use, no permission, no such address)
 * is a configuration problem the operator fixes in gateway.yaml, so it is
 * reported like one: the file and line of the key that chose the address,
 * in one line, instead of node's stack trace.
 */
import type { Server } from 'node:net';
import type { DocPath } from '../config/errors.js';
import type { LoadedConfig } from '../config/load.js';

/** WHY explains the bind errors an operator can fix in the config; others stay as they are. */
const WHY: Readonly<Record<string, string>> = {
  EADDRINUSE: 'is already in use',
  EACCES: 'needs more privileges (ports below 1024 need root or CAP_NET_BIND_SERVICE)',
  EADDRNOTAVAIL: 'is not an address of this machine',
};

/** ListenFailed says which listener could not bind where, and which line of gateway.yaml chose it. */
export class ListenFailed extends Error {
  override readonly name = 'ListenFailed';
  constructor(
    /** key is the config key of the listener: `listen`, `admin` or `listen.redirectHttp`. */
    readonly key: string,
    readonly host: string,
    readonly port: number,
    /** code is the errno code (EADDRINUSE, EACCES, EADDRNOTAVAIL). */
    readonly code: string,
    /** file is the gateway file as given, with `:line` when the key is written there. */
    readonly where: string,
    cause: unknown,
  ) {
    super(`${where}: ${key}: ${host}:${port} ${WHY[code] ?? code} (${code})`, { cause });
  }
}

/**
 * listenFailed turns a bind error of the listener configured at `path` into
 * ListenFailed; any other error is returned unchanged.
 */
export function listenFailed(err: unknown, loaded: LoadedConfig, path: DocPath, host: string, port: number): unknown {
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string' || WHY[code] === undefined) return err;
  const file = loaded.gatewayFile ?? '<inline gateway>';
  const { line } = loaded.locateGateway(path, 'key');
  return new ListenFailed(path.join('.'), host, port, code, line > 0 ? `${file}:${line}` : file, err);
}

/** bind listens on port and host; rejects with ListenFailed for the errors an operator can fix. */
export function bind(server: Server, port: number, host: string, loaded: LoadedConfig, path: DocPath): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(listenFailed(err, loaded, path, host, port));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
