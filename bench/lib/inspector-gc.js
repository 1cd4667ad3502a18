/**
 * Forcing a full garbage collection in another Node process, for RSS readings
 * that a collection between them cannot turn negative: the process is started
 * with `--inspect-port=PORT` (the inspector is not active, so the measured
 * phases run without it); SIGUSR1 opens the inspector on that port, and
 * `HeapProfiler.collectGarbage` runs a full GC over the DevTools protocol.
 */
import { WebSocket } from 'undici';

/** inspectorArgs are the node flags that let forceGc reach the process later. */
export function inspectorArgs(port) {
  return [`--inspect-port=127.0.0.1:${port}`];
}

/** forceGc activates the inspector of `pid` (listening on `port` once activated) and runs a full GC twice; resolves when done. */
export async function forceGc(pid, port, timeoutMs = 10_000) {
  process.kill(pid, 'SIGUSR1');
  const deadline = Date.now() + timeoutMs;
  let url;
  while (url === undefined) {
    try {
      const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
      url = list[0]?.webSocketDebuggerUrl;
    } catch {
      // not listening yet
    }
    if (url === undefined) {
      if (Date.now() > deadline) throw new Error(`inspector of ${pid} did not open on ${port}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error('inspector websocket failed'));
  });
  let id = 0;
  const call = (method) =>
    new Promise((resolve) => {
      const my = ++id;
      const onMessage = (e) => {
        if (JSON.parse(String(e.data)).id === my) {
          ws.removeEventListener('message', onMessage);
          resolve();
        }
      };
      ws.addEventListener('message', onMessage);
      ws.send(JSON.stringify({ id: my, method }));
    });
  // Twice: weak callbacks and finalizers of the first collection free more in the second.
  await call('HeapProfiler.collectGarbage');
  await call('HeapProfiler.collectGarbage');
  ws.close();
}
