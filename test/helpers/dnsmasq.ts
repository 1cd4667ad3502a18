/**
 * A throwaway DNS server for tests: Debian's dnsmasq on a free loopback port,
 * serving A/AAAA records from a hosts file and SRV records from a config
 * file, with everything else under `.test` answered NXDOMAIN (`local=/test/`).
 *
 * Changing records: dnsmasq rereads its hosts files on SIGHUP (setHosts waits
 * for the "read FILE" line that proves it did), but not `srv-host` lines from
 * its configuration, so setSrv restarts it on the same port.
 *
 * Also here: startServfail, a few lines of UDP that answer every query with
 * SERVFAIL (dnsmasq itself only times out when its upstream is dead).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** DNSMASQ is where Debian's dnsmasq-base puts the binary. */
const DNSMASQ = '/usr/sbin/dnsmasq';

/** SrvRecord is one srv-host line: service name → target host:port with priority and weight. */
export interface SrvRecord {
  name: string;
  target: string;
  port: number;
  priority: number;
  weight: number;
}

/** TestDnsmasq is a running dnsmasq the test controls. */
export interface TestDnsmasq {
  readonly port: number;
  /** server is what `discovery.dns.servers` takes: "127.0.0.1:PORT". */
  readonly server: string;
  /** setHosts replaces the hosts file ("ADDRESS NAME" lines) and waits until dnsmasq reread it. */
  setHosts(lines: readonly string[]): Promise<void>;
  /** setSrv replaces the SRV records (a restart on the same port). */
  setSrv(records: readonly SrvRecord[]): Promise<void>;
  /** stop kills dnsmasq (queries are then refused by the kernel); start brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** close stops it and removes its files. */
  close(): Promise<void>;
}

/** assertDnsmasq fails with how to get dnsmasq, instead of skipping: DNS discovery must be tested. */
function assertDnsmasq(): void {
  if (existsSync(DNSMASQ) && spawnSync(DNSMASQ, ['--version'], { stdio: 'ignore' }).status === 0) return;
  throw new Error(`${DNSMASQ} is missing: the DNS discovery tests need a real DNS server. Install the Debian package dnsmasq-base (apt-get install dnsmasq-base; .ci/run installs it).`);
}

/**
 * freeDnsPort asks the kernel for a loopback port that is free for UDP and for
 * TCP: dnsmasq binds both, and a UDP-only check let a parallel test's TCP
 * listener on the same number make dnsmasq fail with "Address already in use".
 */
async function freeDnsPort(): Promise<number> {
  for (;;) {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1');
    await once(s, 'listening');
    const port = s.address().port;
    const tcp = net.createServer();
    const tcpFree = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (tcpFree) await new Promise<void>((r) => tcp.close(() => r()));
    await new Promise<void>((r) => s.close(() => r()));
    if (tcpFree) return port;
  }
}

/** startDnsmasq starts dnsmasq with the given records, a TTL for its answers (seconds, default 1) and extra config lines (e.g. `server=/svc.test/127.0.0.1#PORT` to forward a domain). */
export async function startDnsmasq(opts: { hosts?: readonly string[]; srv?: readonly SrvRecord[]; ttl?: number; conf?: readonly string[] } = {}): Promise<TestDnsmasq> {
  assertDnsmasq();
  const dir = mkdtempSync(join(tmpdir(), 'sy-dnsmasq-'));
  // Started as root, dnsmasq drops to `nobody` before reading the hosts file.
  chmodSync(dir, 0o755);
  const hostsFile = join(dir, 'hosts');
  const confFile = join(dir, 'dnsmasq.conf');
  let port = await freeDnsPort();
  const ttl = opts.ttl ?? 1;
  let child: ChildProcess | undefined;
  let log = '';

  const writeConf = (srv: readonly SrvRecord[]) =>
    writeFileSync(confFile, ['local=/test/', ...(opts.conf ?? []), ...srv.map((r) => `srv-host=${r.name},${r.target},${r.port},${r.priority},${r.weight}`)].join('\n') + '\n');
  const readCount = () => log.split(`read ${hostsFile}`).length - 1;
  const waitForLog = async (count: number, what: string) => {
    const deadline = Date.now() + 5000;
    while (readCount() < count) {
      if (child === undefined || child.exitCode !== null || log.includes('failed to load')) throw new Error(`dnsmasq failed before ${what}:\n${log}`);
      if (Date.now() > deadline) throw new Error(`dnsmasq did not report ${what} within 5s:\n${log}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  const stop = async () => {
    const c = child;
    child = undefined;
    if (c === undefined || c.exitCode !== null) return;
    c.kill('SIGTERM');
    await once(c, 'exit');
  };
  const start = async () => {
    log = '';
    child = spawn(
      DNSMASQ,
      [
        '--keep-in-foreground',
        '--no-resolv',
        '--no-hosts',
        `--port=${port}`,
        '--listen-address=127.0.0.1',
        '--bind-interfaces',
        `--conf-file=${confFile}`,
        `--addn-hosts=${hostsFile}`,
        `--pid-file=${join(dir, 'pid')}`,
        `--local-ttl=${ttl}`,
        '--log-facility=-',
        '--cache-size=0',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    try {
      await waitForLog(1, 'reading its hosts file');
    } catch (err) {
      await stop();
      throw err;
    }
  };

  writeFileSync(hostsFile, (opts.hosts ?? []).join('\n') + '\n');
  writeConf(opts.srv ?? []);
  // Between freeDnsPort and dnsmasq's bind another test can take the port:
  // the first start then moves to a new one (restarts keep theirs).
  for (let attempt = 1; ; attempt++) {
    try {
      await start();
      break;
    } catch (err) {
      if (attempt >= 5 || !/Address already in use/.test((err as Error).message)) throw err;
      port = await freeDnsPort();
    }
  }
  return {
    port,
    server: `127.0.0.1:${port}`,
    async setHosts(lines) {
      writeFileSync(hostsFile, lines.join('\n') + '\n');
      if (child === undefined) return; // stopped: start() reads the new file
      const seen = readCount();
      child?.kill('SIGHUP');
      await waitForLog(seen + 1, 'rereading its hosts file');
    },
    async setSrv(records) {
      writeConf(records);
      await stop();
      await start();
    },
    stop,
    start,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** TestServfail is a UDP DNS server that answers SERVFAIL to everything. */
export interface TestServfail {
  readonly server: string;
  /** queries counts the questions it refused to answer. */
  readonly queries: number;
  close(): Promise<void>;
}

/** startServfail starts a DNS server whose every answer is SERVFAIL (RCODE 2), the question echoed. */
export async function startServfail(): Promise<TestServfail> {
  const sock = dgram.createSocket('udp4');
  let queries = 0;
  sock.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    queries++;
    const out = Buffer.from(msg);
    out[2] = (out[2]! | 0x80) & ~0x02; // QR = response, not truncated; opcode and RD kept
    out[3] = (out[3]! & 0xf0) | 0x82; // RA set, RCODE = 2 (SERVFAIL)
    out.writeUInt16BE(0, 6); // no answers
    out.writeUInt16BE(0, 8);
    out.writeUInt16BE(0, 10);
    sock.send(out, rinfo.port, rinfo.address);
  });
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  return {
    server: `127.0.0.1:${sock.address().port}`,
    get queries() {
      return queries;
    },
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
}
