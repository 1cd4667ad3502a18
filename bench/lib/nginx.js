/**
 * nginx as the reference candidate: one worker process, its access log on as
 * an operator leaves it (the default combined format, one unbuffered write
 * per request, to a file; `accessLog: false` for the nginx-nolog row), an
 * `upstream` block over the three benchmark servers with a keep-alive pool
 * (HTTP/1.1 and an empty Connection header, or nginx would close upstream
 * connections after each request). Only run when an nginx binary exists.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { freePort, launch, waitHttp, which } from './procs.js';

/** findNginx returns { path, version } or undefined when nginx is not installed. */
export function findNginx() {
  const path = which('nginx');
  if (!path) return undefined;
  const r = spawnSync(path, ['-v'], { encoding: 'utf8' });
  const version = /nginx\/(\S+)/.exec(`${r.stderr}${r.stdout}`)?.[1] ?? 'unknown';
  return { path, version };
}

/** nginxConf renders the configuration for a prefix directory. */
export function nginxConf({ dir, port, targets, accessLog = true, connections = 4096, keepaliveTimeout = '75s' }) {
  const servers = targets.map((t) => `    server ${new URL(t).host};`).join('\n');
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections ${connections}; }
http {
  access_log ${accessLog ? `${dir}/access.log` : 'off'};
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  keepalive_requests 100000;
  keepalive_timeout ${keepaliveTimeout};
  upstream bench {
${servers}
    keepalive 128;
    keepalive_requests 100000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://bench;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering on;
    }
  }
}
`;
}

/** startNginx writes the config and starts nginx in the foreground (master + 1 worker). */
export async function startNginx({ nginx, targets, cpus, probePath, headers, accessLog = true, connections, keepaliveTimeout }) {
  const dir = mkdtempSync(join(os.tmpdir(), 'switchyard-bench-nginx-'));
  mkdirSync(join(dir, 'tmp'));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConf({ dir, port, targets, accessLog, connections, keepaliveTimeout }));
  const child = launch(nginx.path, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], { cpus, name: 'nginx' });
  const url = `http://127.0.0.1:${port}${probePath}`;
  try {
    await waitHttp(url, { headers, child });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return { child, pid: child.pid, url, dir };
}
