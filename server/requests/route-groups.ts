const ID_LIKE = /^(\d+|[0-9a-f]{8,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z0-9_-]{24,})$/i;
const MAX_SEGMENTS = 3;

/**
 * Where there are no route patterns (behind the proxy, in an access log), paths are grouped: id-like
 * segments become `:id` and paths deeper than three segments end in `/*`. The query string is never part
 * of the name.
 */
export function routeOfProxiedPath(method: string, pathname: string): string {
  const segments = pathname.split('/').filter((segment) => segment !== '');
  const shown = segments.slice(0, MAX_SEGMENTS).map((segment) => (ID_LIKE.test(segment) ? ':id' : segment.slice(0, 40)));
  const tail = segments.length > MAX_SEGMENTS ? '/*' : '';
  return `${method} /${shown.join('/')}${tail}`;
}

const CACHED_ROUTES = 10_000;

/**
 * `routeOfProxiedPath` with the routes of recent paths remembered: an access log repeats a few thousand
 * paths, and grouping one costs several times a lookup (bench: access-log rows). Forgets all when full.
 */
export class RouteCache {
  private readonly routes = new Map<string, string>();

  routeOf(method: string, pathname: string): string {
    const key = `${method} ${pathname}`;
    let route = this.routes.get(key);
    if (route === undefined) {
      if (this.routes.size >= CACHED_ROUTES) this.routes.clear();
      route = routeOfProxiedPath(method, pathname);
      this.routes.set(key, route);
    }
    return route;
  }
}
