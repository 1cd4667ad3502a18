/**
 * Watching the configuration files: any change to gateway.yaml or the route
 * files (or directory) triggers a reload after a quiet period, so an editor
 * that writes a file in several steps causes one reload.
 */
import { watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDuration } from '../config/duration.js';
import type { Gateway } from './gateway.js';

/** watchConfig watches the gateway's sources and reloads on change; returns a stop function. */
export function watchConfig(gw: Gateway): () => void {
  const debounceMs = parseDuration(gw.config.reload.debounce);
  const dirs = new Set<string>();
  for (const p of gw.watchPaths()) dirs.add(p.isDir ? p.path : dirname(p.path));
  let timer: NodeJS.Timeout | undefined;
  const kick = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void gw.reload(), debounceMs);
    timer.unref();
  };
  const watchers: FSWatcher[] = [];
  for (const dir of dirs) {
    try {
      // Watch directories, not files: editors replace files by rename, which ends a file watch.
      const w = watch(resolve(dir), { persistent: false }, (_event, name) => {
        if (name === null || /\.(ya?ml|json)$/.test(name)) kick();
      });
      w.on('error', (err) => gw.log.warn({ err, dir }, 'config watch failed'));
      watchers.push(w);
    } catch (err) {
      gw.log.warn({ err, dir }, 'cannot watch config directory; reload with SIGHUP or POST /reload');
    }
  }
  return () => {
    clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
