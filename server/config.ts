import { accessSync, constants, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { delimiter } from 'node:path';
import { parseArgs } from 'node:util';
import { AlertRulesError, type AlertSettings, loadAlertSettings } from './alerts/rules.js';
import { HOST_NAME } from './fleet/keys.js';
import { parseRetention, type Retention } from './history/tiers.js';
import { formatDuration, parseDuration } from './lib/duration.js';
import { oneLine } from './lib/errors.js';

export interface Config {
  host: string;
  port: number;
  intervalMs: number;
  historyMs: number;
  backfillMs: number;
  heartbeatMs: number;
  retryMs: number;
  filesystemIntervalMs: number;
  collectorTimeoutMs: number;
  excludeInterfaces: RegExp | null;
  excludeFsTypes: RegExp | null;
  maxItems: number;
  maxClientBufferBytes: number;
  portable: boolean;
  /** The Docker/Podman API socket the containers topic takes names from; null for names from cgroup paths only. */
  dockerSocket: string | null;
  /** Where the host's /proc and /sys are (a container run with them mounted); null for /proc and /sys. */
  procfs: string | null;
  sysfs: string | null;
  /** Reverse-proxy mode: forward to this origin and measure the traffic. */
  proxy: URL | null;
  proxyPort: number;
  /** Longest the proxy's upstream may keep an exchange waiting: 504 before its response began, cut after. */
  proxyTimeoutMs: number;
  /** Web servers' access logs to follow as the source of request statistics (`--access-log`, repeatable). */
  accessLogs: string[];
  /** PEM files: with both, the server speaks HTTPS with HTTP/2 (HTTP/1.1 by ALPN) on the same port. */
  tlsCert: string | null;
  tlsKey: string | null;
  /** When set, every route but /healthz requires it. */
  token: string | null;
  /** Origins allowed to read the API cross-origin; empty means CORS stays off. */
  corsOrigins: string[];
  /** Concurrent streams in all (503 past it) and per client address (429 past it). */
  maxStreams: number;
  maxStreamsPerClient: number;
  /** Behind a reverse proxy: the client's address and scheme come from its X-Forwarded-For and -Proto. */
  trustProxy: boolean;
  /** `--alert-rules`: a JSON file of rules and thresholds; null for the defaults. */
  alertRulesFile: string | null;
  /** The rules and thresholds in force (from the file, or the defaults). */
  alerts: AlertSettings;
  /** Each alert change is POSTed here as JSON. */
  alertWebhook: URL | null;
  /** The board's address as people open it: alert messages link to it (over the rules file's `public_url`). */
  publicUrl: URL | null;
  /** Fleet: an agent appends its events to Redis; a server with it serves every host found there. */
  redis: URL | null;
  /** Fleet: the agent's host name in Redis and in `?host=`. */
  name: string;
  /** Fleet: events an agent keeps while Redis is unreachable; the oldest go first past it. */
  backlog: number;
  /** Durable history's directory; null keeps history in memory only. */
  dataDir: string | null;
  /** How long each history tier is kept, ms. */
  retention: Retention;
}

/** A bad flag or environment value: main prints the message on one line and exits 2. */
export class ConfigError extends Error {}

type Kind =
  | 'port'
  | 'host'
  | 'duration'
  | 'count'
  | 'bytes'
  | 'regex'
  | 'boolean'
  | 'url'
  | 'file'
  | 'secret'
  | 'origins'
  | 'redis'
  | 'name'
  | 'dir'
  | 'retention'
  | 'socket'
  | 'mounted-dir'
  | 'log-files';

interface OptionSpec {
  key: keyof Config;
  flag: string;
  env: string;
  kind: Kind;
  /** Default, in the same text form a user would type. */
  fallback: string;
  help: string;
  min?: number;
  max?: number;
}

const OPTIONS: OptionSpec[] = [
  { key: 'port', flag: 'port', env: 'PORT', kind: 'port', fallback: '3000', help: 'TCP port (0 picks a free one)' },
  {
    key: 'host',
    flag: 'host',
    env: 'HOST',
    kind: 'host',
    fallback: '127.0.0.1',
    help: 'address to bind; 0.0.0.0 exposes the dashboard to the network',
  },
  {
    key: 'intervalMs',
    flag: 'interval',
    env: 'PULSEBOARD_INTERVAL',
    kind: 'duration',
    fallback: '1s',
    min: 10,
    max: 3_600_000,
    help: 'sampling interval',
  },
  {
    key: 'historyMs',
    flag: 'history',
    env: 'PULSEBOARD_HISTORY',
    kind: 'duration',
    fallback: '1h',
    min: 1000,
    max: 7 * 86_400_000,
    help: 'how much history the server keeps (resume, /api/history)',
  },
  {
    key: 'backfillMs',
    flag: 'backfill',
    env: 'PULSEBOARD_BACKFILL',
    kind: 'duration',
    fallback: '5m',
    min: 0,
    max: 86_400_000,
    help: 'history sent to a new stream so charts are full on first paint',
  },
  {
    key: 'heartbeatMs',
    flag: 'heartbeat',
    env: 'PULSEBOARD_HEARTBEAT',
    kind: 'duration',
    fallback: '15s',
    min: 100,
    max: 300_000,
    help: 'interval of the `: ping` comment on idle streams',
  },
  {
    key: 'retryMs',
    flag: 'retry',
    env: 'PULSEBOARD_RETRY',
    kind: 'duration',
    fallback: '2s',
    min: 100,
    max: 300_000,
    help: 'reconnection delay sent to clients as the SSE retry field',
  },
  {
    key: 'filesystemIntervalMs',
    flag: 'fs-interval',
    env: 'PULSEBOARD_FS_INTERVAL',
    kind: 'duration',
    fallback: '30s',
    min: 10,
    max: 3_600_000,
    help: 'sampling interval of filesystem usage',
  },
  {
    key: 'collectorTimeoutMs',
    flag: 'collector-timeout',
    env: 'PULSEBOARD_COLLECTOR_TIMEOUT',
    kind: 'duration',
    fallback: '5s',
    min: 10,
    max: 600_000,
    help: 'a collector slower than this is reported as failing',
  },
  {
    key: 'excludeInterfaces',
    flag: 'exclude-interfaces',
    env: 'PULSEBOARD_EXCLUDE_INTERFACES',
    kind: 'regex',
    fallback: '',
    help: 'regex of network interfaces to leave out (default: lo, veth*, docker*, br-*, ...)',
  },
  {
    key: 'excludeFsTypes',
    flag: 'exclude-fs-types',
    env: 'PULSEBOARD_EXCLUDE_FS_TYPES',
    kind: 'regex',
    fallback: '',
    help: 'regex of filesystem types to leave out (default: tmpfs, overlay, squashfs, ...)',
  },
  {
    key: 'maxItems',
    flag: 'max-items',
    env: 'PULSEBOARD_MAX_ITEMS',
    kind: 'count',
    fallback: '16',
    min: 1,
    max: 1000,
    help: 'most interfaces / mounts listed per sample',
  },
  {
    key: 'maxClientBufferBytes',
    flag: 'max-client-buffer',
    env: 'PULSEBOARD_MAX_CLIENT_BUFFER',
    kind: 'bytes',
    fallback: '1048576',
    min: 4096,
    max: 1 << 30,
    help: 'bytes a slow stream may have unsent before it is dropped',
  },
  {
    key: 'proxy',
    flag: 'proxy',
    env: 'PULSEBOARD_PROXY',
    kind: 'url',
    fallback: '',
    help: 'reverse-proxy mode: forward requests to this http(s) origin and measure them',
  },
  {
    key: 'proxyPort',
    flag: 'proxy-port',
    env: 'PULSEBOARD_PROXY_PORT',
    kind: 'port',
    fallback: '8081',
    help: 'port the proxy listens on (with --proxy); the dashboard keeps --port',
  },
  {
    key: 'proxyTimeoutMs',
    flag: 'proxy-timeout',
    env: 'PULSEBOARD_PROXY_TIMEOUT',
    kind: 'duration',
    fallback: '30s',
    min: 100,
    max: 3_600_000,
    help: 'with --proxy: an upstream silent this long gets the client a 504 (or, mid-response, a cut connection)',
  },
  {
    key: 'accessLogs',
    flag: 'access-log',
    env: 'PULSEBOARD_ACCESS_LOG',
    kind: 'log-files',
    fallback: '',
    help: "follow this web server access log (nginx, Apache, Caddy) as the request statistics' source; repeatable (env: paths separated by ':')",
  },
  {
    key: 'token',
    flag: 'token',
    env: 'PULSEBOARD_TOKEN',
    kind: 'secret',
    fallback: '',
    help: 'require this token on every route but /healthz (Bearer header, or open the page once with ?token=)',
  },
  {
    key: 'corsOrigins',
    flag: 'cors-origin',
    env: 'PULSEBOARD_CORS_ORIGIN',
    kind: 'origins',
    fallback: '',
    help: 'comma-separated origins (https://ops.example.com) allowed to call the API from their pages; CORS is off without it',
  },
  {
    key: 'maxStreams',
    flag: 'max-streams',
    env: 'PULSEBOARD_MAX_STREAMS',
    kind: 'count',
    fallback: '10000',
    min: 1,
    max: 1_000_000,
    help: 'concurrent event streams in all; past it a new one gets 503 with Retry-After',
  },
  {
    key: 'maxStreamsPerClient',
    flag: 'max-streams-per-client',
    env: 'PULSEBOARD_MAX_STREAMS_PER_CLIENT',
    kind: 'count',
    fallback: '64',
    min: 1,
    max: 1_000_000,
    help: 'concurrent event streams per client address; past it a new one gets 429 with Retry-After',
  },
  {
    key: 'trustProxy',
    flag: 'trust-proxy',
    env: 'PULSEBOARD_TRUST_PROXY',
    kind: 'boolean',
    fallback: 'false',
    help: "behind a reverse proxy that every request passes: take the client's address from X-Forwarded-For (the per-client stream cap) and HTTPS from X-Forwarded-Proto (the cookie's Secure)",
  },
  {
    key: 'alertRulesFile',
    flag: 'alert-rules',
    env: 'PULSEBOARD_ALERT_RULES',
    kind: 'file',
    fallback: '',
    help: 'JSON file of alert rules and warning/critical thresholds (see the README); replaces the default rules',
  },
  {
    key: 'alertWebhook',
    flag: 'alert-webhook',
    env: 'PULSEBOARD_ALERT_WEBHOOK',
    kind: 'url',
    fallback: '',
    help: 'POST every alert change as JSON to this http(s) URL (retried with backoff)',
  },
  {
    key: 'publicUrl',
    flag: 'public-url',
    env: 'PULSEBOARD_PUBLIC_URL',
    kind: 'url',
    fallback: '',
    help: "the board's address as people open it; alert messages link to it at the alert's time range",
  },
  {
    key: 'redis',
    flag: 'redis',
    env: 'PULSEBOARD_REDIS',
    kind: 'redis',
    fallback: '',
    help: 'Redis URL (redis://host:6379): an agent appends to it; a server serves every host found in it',
  },
  {
    key: 'name',
    flag: 'name',
    env: 'PULSEBOARD_NAME',
    kind: 'name',
    fallback: '',
    help: "agent: this host's name in the fleet (default: the hostname)",
  },
  {
    key: 'backlog',
    flag: 'backlog',
    env: 'PULSEBOARD_BACKLOG',
    kind: 'count',
    fallback: '100000',
    min: 100,
    max: 10_000_000,
    help: 'agent: events kept while Redis is unreachable, flushed in order when it returns',
  },
  {
    key: 'dataDir',
    flag: 'data-dir',
    env: 'PULSEBOARD_DATA_DIR',
    kind: 'dir',
    fallback: './data',
    help: 'directory of the durable history (created if missing); none keeps history in memory only',
  },
  {
    key: 'retention',
    flag: 'retention',
    env: 'PULSEBOARD_RETENTION',
    kind: 'retention',
    fallback: 'raw=24h,1m=30d,10m=90d,1h=1y',
    help: 'how long each history tier is kept: every sample, 1-minute, 10-minute and 1-hour rows',
  },
  {
    key: 'tlsCert',
    flag: 'tls-cert',
    env: 'PULSEBOARD_TLS_CERT',
    kind: 'file',
    fallback: '',
    help: 'PEM certificate: serve HTTPS with HTTP/2 (and HTTP/1.1 via ALPN); needs --tls-key',
  },
  {
    key: 'tlsKey',
    flag: 'tls-key',
    env: 'PULSEBOARD_TLS_KEY',
    kind: 'file',
    fallback: '',
    help: 'PEM private key of --tls-cert',
  },
  {
    key: 'dockerSocket',
    flag: 'docker-socket',
    env: 'PULSEBOARD_DOCKER_SOCKET',
    kind: 'socket',
    fallback: '/var/run/docker.sock',
    help: "Docker or Podman API socket that names containers (list calls only); '' for names from cgroup paths",
  },
  {
    key: 'procfs',
    flag: 'procfs',
    env: 'PULSEBOARD_PROCFS',
    kind: 'mounted-dir',
    fallback: '',
    help: "the host's /proc when pulseboard runs in a container with it mounted (e.g. /host/proc); default /proc",
  },
  {
    key: 'sysfs',
    flag: 'sysfs',
    env: 'PULSEBOARD_SYSFS',
    kind: 'mounted-dir',
    fallback: '',
    help: "the host's /sys when pulseboard runs in a container with it mounted (e.g. /host/sys); default /sys",
  },
  {
    key: 'portable',
    flag: 'portable',
    env: 'PULSEBOARD_PORTABLE',
    kind: 'boolean',
    fallback: 'false',
    help: 'sample through systeminformation only, even where /proc is readable',
  },
];

function parseValue(spec: OptionSpec, raw: string, origin: string): Config[keyof Config] {
  const bad = (why: string) => new ConfigError(`${origin} ${JSON.stringify(raw)}: ${why}`);
  const inRange = (n: number, unit: (n: number) => string) => {
    if (spec.min !== undefined && n < spec.min) throw bad(`must be at least ${unit(spec.min)}`);
    if (spec.max !== undefined && n > spec.max) throw bad(`must be at most ${unit(spec.max)}`);
    return n;
  };
  switch (spec.kind) {
    case 'port': {
      if (!/^\d+$/.test(raw) || Number(raw) > 65535) throw bad('expected a port number from 0 to 65535');
      return Number(raw);
    }
    case 'host': {
      if (!/^[A-Za-z0-9.:\-[\]]+$/.test(raw)) throw bad('expected a host name or IP address');
      return raw;
    }
    case 'duration': {
      const ms = parseDuration(raw);
      if (ms === null) throw bad('expected a duration such as 500ms, 30s, 15m or 1h');
      return inRange(ms, formatDuration);
    }
    case 'count':
    case 'bytes': {
      if (!/^\d+$/.test(raw)) throw bad('expected a whole number');
      return inRange(Number(raw), String);
    }
    case 'regex': {
      if (raw === '') return null;
      try {
        return new RegExp(raw);
      } catch {
        throw bad('not a valid regular expression');
      }
    }
    case 'redis': {
      if (raw === '') return null;
      let url: URL | null = null;
      try {
        url = new URL(raw);
      } catch {}
      if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
        throw bad('expected a Redis URL such as redis://127.0.0.1:6379');
      }
      return url;
    }
    case 'name': {
      if (raw === '') return defaultHostName();
      if (!HOST_NAME.test(raw)) throw bad('expected 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit');
      return raw;
    }
    case 'url': {
      if (raw === '') return null;
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw bad('expected a URL such as http://127.0.0.1:8080');
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad('expected an http or https URL');
      return url;
    }
    case 'secret': {
      if (raw === '') return null;
      // The value is never echoed back in an error: it is a secret.
      if (!/^[\x21-\x7e]{16,256}$/.test(raw))
        throw new ConfigError(`${origin}: a token must be 16 to 256 printable characters without spaces`);
      return raw;
    }
    case 'origins': {
      const origins = raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
      for (const origin of origins) {
        let url: URL | null = null;
        try {
          url = new URL(origin);
        } catch {}
        const isOrigin = url !== null && (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === origin;
        if (!isOrigin)
          throw bad(`${JSON.stringify(origin)} is not an origin such as https://ops.example.com (scheme, host, optional port; no path)`);
      }
      return origins;
    }
    case 'file': {
      if (raw === '') return null;
      try {
        accessSync(raw, constants.R_OK);
      } catch (error) {
        throw bad(`cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      return raw;
    }
    case 'dir': {
      if (raw === 'none') return null;
      if (raw === '' || raw.length > 4096 || raw.includes('\0')) throw bad('expected a directory path, or none');
      return raw;
    }
    case 'retention': {
      const retention = parseRetention(raw);
      if (!retention.ok) throw bad(retention.error);
      return retention.value;
    }
    case 'socket': {
      // Need not exist yet: the daemon may start after us, and names fall back to cgroup paths meanwhile.
      if (raw === '') return null;
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused.
      if (!raw.startsWith('/') || /[\u0000-\u001f\u007f]/.test(raw) || Buffer.byteLength(raw) > 107) {
        throw bad('expected the absolute path of a Unix socket (at most 107 bytes), or an empty value to turn it off');
      }
      return raw;
    }
    case 'log-files': {
      // Need not exist yet: a log that appears later is waited for.
      if (raw === '') return [];
      const paths = raw.split(delimiter);
      for (const path of paths) {
        // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused.
        if (path === '' || path.length > 4096 || /[\u0000-\u001f\u007f]/.test(path)) throw bad('expected file paths');
        let isDirectory = false;
        try {
          isDirectory = statSync(path).isDirectory();
        } catch {}
        if (isDirectory) throw bad(`${path} is a directory, not a log file`);
      }
      return [...new Set(paths)];
    }
    case 'mounted-dir': {
      if (raw === '') return null;
      let isDirectory = false;
      try {
        isDirectory = statSync(raw).isDirectory();
      } catch (error) {
        throw bad(`cannot read the directory (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      if (!isDirectory) throw bad('not a directory');
      return raw.length > 1 ? raw.replace(/\/+$/, '') : raw;
    }
    case 'boolean': {
      if (/^(1|true|yes)$/i.test(raw)) return true;
      if (/^(0|false|no|)$/i.test(raw)) return false;
      throw bad('expected true or false');
    }
  }
}

export type CliCommand = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; config: Config } | { kind: 'agent'; config: Config };

/** The machine's hostname as a fleet name: characters a name cannot hold become `-`. */
function defaultHostName(): string {
  const name = hostname()
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 63);
  return name === '' ? 'host' : name;
}

/** Flags win over environment variables, which win over defaults. Throws ConfigError. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv): CliCommand {
  const agent = argv[0] === 'agent';
  if (agent) argv = argv.slice(1);
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
  };
  for (const spec of OPTIONS) {
    options[spec.flag] = { type: spec.kind === 'boolean' ? 'boolean' : 'string', multiple: spec.kind === 'log-files' };
  }
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (error) {
    // node:util's messages quote the argument as given: a CR or an ESC in it would act on the terminal.
    throw new ConfigError(oneLine(error instanceof Error ? error.message : String(error)));
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };

  const config = {} as Record<keyof Config, Config[keyof Config]>;
  for (const spec of OPTIONS) {
    const fromFlag = values[spec.flag];
    const fromEnv = env[spec.env];
    if (fromFlag !== undefined) {
      const given = Array.isArray(fromFlag) ? fromFlag.join(delimiter) : String(fromFlag);
      config[spec.key] = parseValue(spec, given, `--${spec.flag}`);
    } else if (fromEnv !== undefined) {
      config[spec.key] = parseValue(spec, fromEnv, spec.env);
    } else {
      config[spec.key] = parseValue(spec, spec.fallback, `default of --${spec.flag}`);
    }
  }
  const result = config as unknown as Config;
  try {
    result.alerts = loadAlertSettings(result.alertRulesFile, env);
  } catch (error) {
    if (error instanceof AlertRulesError) throw new ConfigError(`--alert-rules ${oneLine(error.message)}`);
    throw error;
  }
  if (result.historyMs < result.intervalMs) throw new ConfigError('--history must be at least one --interval');
  if (result.backfillMs > result.historyMs) result.backfillMs = result.historyMs;
  if ((result.tlsCert === null) !== (result.tlsKey === null)) throw new ConfigError('--tls-cert and --tls-key go together');
  if (result.proxy && result.proxyPort === result.port && result.port !== 0) {
    throw new ConfigError(`--proxy-port ${result.proxyPort} is the dashboard's --port; choose another`);
  }
  if (result.proxy && result.accessLogs.length > 0) {
    throw new ConfigError('--access-log and --proxy are two sources of the same statistics; choose one');
  }
  if (agent && !result.redis) throw new ConfigError('agent needs --redis <url> to send its events to');
  // An agent's history goes to Redis; it writes no files.
  if (agent) result.dataDir = null;
  if (!agent && (values.name !== undefined || values.backlog !== undefined)) {
    throw new ConfigError('--name and --backlog are for `pulseboard agent`');
  }
  return { kind: agent ? 'agent' : 'run', config: result };
}

/** The configuration a library user gets when they pass nothing: history in memory unless a `dataDir` is given. */
export function defaultConfig(overrides: Partial<Config> = {}): Config {
  const command = parseCli([], {});
  if (command.kind !== 'run') throw new Error('unreachable');
  return { ...command.config, dataDir: null, ...overrides };
}

export function helpText(): string {
  const rows = OPTIONS.map((spec) => {
    const flag = spec.kind === 'boolean' ? `--${spec.flag}` : `--${spec.flag} <${spec.kind}>`;
    const fallback = spec.fallback === '' ? '' : ` (default ${spec.fallback})`;
    return `  ${flag.padEnd(34)} ${spec.help}${fallback}\n  ${''.padEnd(34)} env ${spec.env}`;
  });
  return [
    'Usage: pulseboard [options]                       serve the dashboard (of every host in Redis, with --redis)',
    '       pulseboard agent --redis <url> [options]   sample this host into Redis; serves no page',
    '       pulseboard test-alert --channel <name> [options]   send a test message to an alert channel',
    '',
    'Live server metrics over Server-Sent Events, with a dashboard at http://HOST:PORT/.',
    'Durations take ms, s, m, h or d (a bare number is milliseconds).',
    '',
    'Options:',
    ...rows,
    `  ${'--help, -h'.padEnd(34)} show this help`,
    `  ${'--version, -v'.padEnd(34)} print the version`,
    '',
  ].join('\n');
}
