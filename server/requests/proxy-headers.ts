/**
 * A `Cookie` header without the cookie called `name`; undefined when nothing else is left. Browsers send
 * a host's cookies to every port of it, so the proxied app would otherwise receive ours.
 */
export function withoutCookie(header: string, name: string): string | undefined {
  const kept = header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '' && pair.split('=', 1)[0]?.trim() !== name);
  return kept.length > 0 ? kept.join('; ') : undefined;
}

const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * The request target to send upstream, in origin form (`/path?query`): an absolute-form target
 * (`GET http://other.example/path`) is cut to its path and query, so the upstream never routes by a host
 * the client chose. `OPTIONS *` stays as it is. Null for anything else (authority form, garbage).
 */
export function originFormTarget(method: string, target: string): string | null {
  if (target.startsWith('/')) return target;
  if (target === '*' && method === 'OPTIONS') return target;
  if (!ABSOLUTE_FORM.test(target)) return null;
  try {
    const url = new URL(target);
    return `${url.pathname}${url.search}`;
  } catch {
    return null;
  }
}
