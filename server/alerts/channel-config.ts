import { readFileSync } from 'node:fs';

export const CHANNEL_TYPES = ['webhook', 'ntfy', 'slack', 'discord', 'telegram', 'email'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/** How an email channel talks to its server: STARTTLS on a plain port (587), TLS from the start (465), or neither. */
export type SmtpSecurity = 'starttls' | 'tls' | 'none';

/** A channel with its secrets read (from env or a file). Nothing here is ever logged or served. */
export type ChannelConfig =
  | { name: string; type: 'webhook'; url: URL }
  | { name: string; type: 'ntfy'; url: URL; token: string | null }
  | { name: string; type: 'slack'; url: URL }
  | { name: string; type: 'discord'; url: URL }
  | { name: string; type: 'telegram'; token: string; chatId: string; apiUrl: URL }
  | {
      name: string;
      type: 'email';
      host: string;
      port: number;
      security: SmtpSecurity;
      user: string | null;
      password: string | null;
      from: string;
      to: string[];
      /** PEM certificates to trust for the server's TLS (a relay with a private CA); null: the system's. */
      ca: string | null;
    };

/** The strings of a channel that must never be shown (scrubbed from its log lines). */
export function secretsOf(channel: ChannelConfig): string[] {
  switch (channel.type) {
    case 'ntfy':
      return [channel.token ?? '', channel.url.password].filter(Boolean);
    case 'slack':
    case 'discord':
      // The whole URL is the secret; its path alone too (the origin is shown, the path never).
      return [channel.url.href, channel.url.pathname.length > 1 ? channel.url.pathname : ''].filter(Boolean);
    case 'telegram':
      return [channel.token];
    case 'email':
      return [channel.password ?? ''].filter(Boolean);
    case 'webhook':
      // Its path may be a secret too (given by url_env); scrubbing a path that is not costs nothing.
      return [channel.url.password, channel.url.pathname.length > 1 ? channel.url.pathname : ''].filter(Boolean);
  }
}

type Fail = (place: string, why: string) => Error;
type Env = Record<string, string | undefined>;

const CHANNEL_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const ADDRESS = /^[^\s@<>"]+@[^\s@<>"]+$/;

const KEYS: Record<ChannelType, string[]> = {
  webhook: ['url', 'url_env', 'url_file'],
  ntfy: ['url', 'url_env', 'url_file', 'token_env', 'token_file'],
  slack: ['url_env', 'url_file'],
  discord: ['url_env', 'url_file'],
  telegram: ['token_env', 'token_file', 'chat_id', 'api_url'],
  email: ['host', 'port', 'security', 'user', 'password_env', 'password_file', 'from', 'to', 'tls_ca_file'],
};

/** One entry of the rules file's `"channels"`: checked, with its secrets read now, so start-up fails early. */
export function parseChannel(raw: unknown, place: string, fail: Fail, env: Env): ChannelConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw fail(place, 'expected an object');
  const entry = raw as Record<string, unknown>;
  const { name, type } = entry;
  if (typeof name !== 'string' || !CHANNEL_NAME.test(name)) throw fail(`${place}.name`, 'expected 1-64 letters, digits, ".", "_" or "-"');
  if (!(CHANNEL_TYPES as readonly unknown[]).includes(type)) throw fail(`${place}.type`, `expected one of ${CHANNEL_TYPES.join(', ')}`);
  const kind = type as ChannelType;
  const allowed = ['name', 'type', ...KEYS[kind]];
  for (const key of Object.keys(entry)) {
    if (!allowed.includes(key)) {
      const hint = key === 'url' || key === 'token' || key === 'password' ? `; a secret comes from "${key}_env" or "${key}_file"` : '';
      throw fail(place, `unknown key ${JSON.stringify(key)} for a ${kind} channel (expected ${allowed.join(', ')})${hint}`);
    }
  }
  const secret = (key: string, required: boolean) => readSecret(entry, key, `${place}`, fail, env, required);
  const url = (text: string | null, key: string): URL => {
    const parsed = httpUrl(text, `${place}.${key}`, fail);
    // Only the webhook turns `user:pass@` into Basic auth; fetch refuses a URL that holds credentials.
    if (kind !== 'webhook' && (parsed.username !== '' || parsed.password !== '')) {
      throw fail(`${place}.${key}`, 'a user or password in the URL is not used here; give a token with token_env or token_file');
    }
    return parsed;
  };
  switch (kind) {
    case 'webhook':
    case 'ntfy': {
      const plain = entry.url;
      if (plain !== undefined && (entry.url_env !== undefined || entry.url_file !== undefined)) {
        throw fail(place, 'give one of url, url_env, url_file');
      }
      if (plain !== undefined && typeof plain !== 'string') throw fail(`${place}.url`, 'expected an http(s) URL');
      const target = url((plain as string | undefined) ?? secret('url', true), 'url');
      if (kind === 'ntfy' && !ntfyTopic(target)) throw fail(`${place}.url`, "expected the topic's URL, such as https://ntfy.sh/my-alerts");
      return kind === 'webhook' ? { name, type: kind, url: target } : { name, type: kind, url: target, token: secret('token', false) };
    }
    case 'slack':
    case 'discord':
      return { name, type: kind, url: url(secret('url', true), 'url') };
    case 'telegram': {
      const chatId = entry.chat_id;
      if (!((typeof chatId === 'string' && /^(-?\d{1,20}|@[A-Za-z0-9_]{5,32})$/.test(chatId)) || Number.isSafeInteger(chatId))) {
        throw fail(`${place}.chat_id`, 'expected a chat id (a number) or "@channelname"');
      }
      const apiUrl = entry.api_url === undefined ? new URL('https://api.telegram.org') : url(stringOr(entry.api_url, null), 'api_url');
      return { name, type: kind, token: secret('token', true) as string, chatId: String(chatId), apiUrl };
    }
    case 'email': {
      const { host, port = 587, security = 'starttls', user, from, to } = entry;
      if (typeof host !== 'string' || !/^[A-Za-z0-9.:[\]-]{1,253}$/.test(host)) throw fail(`${place}.host`, 'expected a host name');
      if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535)
        throw fail(`${place}.port`, 'expected a port, 1-65535');
      if (security !== 'starttls' && security !== 'tls' && security !== 'none') {
        throw fail(`${place}.security`, 'expected "starttls" (default), "tls" or "none"');
      }
      if (user !== undefined && (typeof user !== 'string' || user.length === 0 || user.length > 256)) {
        throw fail(`${place}.user`, 'expected a user name');
      }
      const password = secret('password', false);
      if ((user === undefined) !== (password === null)) throw fail(place, 'user and password_env (or password_file) go together');
      if (typeof from !== 'string' || !ADDRESS.test(from)) throw fail(`${place}.from`, 'expected an email address');
      const recipients = typeof to === 'string' ? [to] : to;
      if (
        !Array.isArray(recipients) ||
        recipients.length === 0 ||
        recipients.length > 50 ||
        !recipients.every((r) => typeof r === 'string' && ADDRESS.test(r))
      ) {
        throw fail(`${place}.to`, 'expected an email address or a list of 1-50');
      }
      let ca: string | null = null;
      if (entry.tls_ca_file !== undefined) {
        if (typeof entry.tls_ca_file !== 'string' || entry.tls_ca_file.length === 0)
          throw fail(`${place}.tls_ca_file`, 'expected a file path');
        try {
          ca = readFileSync(entry.tls_ca_file, 'utf8');
        } catch (error) {
          throw fail(`${place}.tls_ca_file`, `cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
        }
        if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw fail(`${place}.tls_ca_file`, 'expected PEM certificates');
      }
      return {
        name,
        type: kind,
        host,
        port: port as number,
        security,
        user: (user as string | undefined) ?? null,
        password,
        from,
        to: recipients as string[],
        ca,
      };
    }
  }
}

/** `<key>_env` (an environment variable's name) or `<key>_file` (a file holding it); null when neither is given. */
function readSecret(entry: Record<string, unknown>, key: string, place: string, fail: Fail, env: Env, required: boolean): string | null {
  const fromEnv = entry[`${key}_env`];
  const fromFile = entry[`${key}_file`];
  if (fromEnv !== undefined && fromFile !== undefined) throw fail(place, `give ${key}_env or ${key}_file, not both`);
  if (fromEnv !== undefined) {
    if (typeof fromEnv !== 'string' || !ENV_NAME.test(fromEnv)) throw fail(`${place}.${key}_env`, 'expected an environment variable name');
    const value = env[fromEnv]?.trim();
    if (!value) throw fail(`${place}.${key}_env`, `the environment variable ${fromEnv} is not set`);
    return value;
  }
  if (fromFile !== undefined) {
    if (typeof fromFile !== 'string' || fromFile.length === 0) throw fail(`${place}.${key}_file`, 'expected a file path');
    let value: string;
    try {
      value = readFileSync(fromFile, 'utf8').trim();
    } catch (error) {
      throw fail(`${place}.${key}_file`, `cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (!value) throw fail(`${place}.${key}_file`, 'the file is empty');
    return value;
  }
  if (required) throw fail(place, `expected ${key}_env or ${key}_file`);
  return null;
}

/** The last path segment of an ntfy URL: its topic (letters, digits, `_` and `-`, as ntfy allows). */
function ntfyTopic(url: URL): boolean {
  return /^[-_A-Za-z0-9]{1,64}$/.test(url.pathname.split('/').pop() ?? '');
}

function stringOr(value: unknown, fallback: string | null): string | null {
  return typeof value === 'string' ? value : fallback;
}

/** Never quotes the URL back: it may be the secret. */
function httpUrl(text: string | null, place: string, fail: Fail): URL {
  let url: URL | null = null;
  try {
    url = text === null ? null : new URL(text);
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw fail(place, 'expected an http(s) URL');
  return url;
}
