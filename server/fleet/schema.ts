/**
 * Small validators for JSON read from outside (Redis). A schema checks a parsed value and returns a clean
 * copy of it, with object keys it does not name left out; on the first mismatch it throws a SchemaError
 * that names the path (`collectors[2].topic: expected one of cpu, memory, ...`).
 */

export class SchemaError extends Error {}

export type Schema<T> = (value: unknown, path: string) => T;

/** Longest string and longest list any schema accepts: a bound on what one bad entry can make us hold. */
export const MAX_TEXT = 4096;
export const MAX_ITEMS = 4096;

const fail = (path: string, expected: string): never => {
  throw new SchemaError(`${path || 'value'}: expected ${expected}`);
};

const kindOf = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

export function number(options: { min?: number; max?: number; integer?: boolean } = {}): Schema<number> {
  const { min = -Number.MAX_VALUE, max = Number.MAX_VALUE, integer = false } = options;
  const bounds = [options.min === undefined ? '' : ` of at least ${min}`, options.max === undefined ? '' : ` up to ${max}`];
  const expected = `${integer ? 'an integer' : 'a finite number'}${bounds.join('')}`;
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) return fail(path, expected);
    if (integer && !Number.isInteger(value)) return fail(path, expected);
    return value;
  };
}

export function string(options: { pattern?: RegExp; describe?: string } = {}): Schema<string> {
  const { pattern, describe = `text of at most ${MAX_TEXT} characters` } = options;
  return (value, path) => {
    if (typeof value !== 'string' || value.length > MAX_TEXT || (pattern && !pattern.test(value))) return fail(path, describe);
    return value;
  };
}

export function boolean(): Schema<boolean> {
  return (value, path) => (typeof value === 'boolean' ? value : fail(path, 'true or false'));
}

export function oneOf<const T extends string>(values: readonly T[]): Schema<T> {
  const allowed: ReadonlySet<string> = new Set(values);
  return (value, path) => (typeof value === 'string' && allowed.has(value) ? (value as T) : fail(path, `one of ${values.join(', ')}`));
}

export function nullable<T>(schema: Schema<T>): Schema<T | null> {
  return (value, path) => (value === null ? null : schema(value, path));
}

export function array<T>(item: Schema<T>): Schema<T[]> {
  return (value, path) => {
    if (!Array.isArray(value) || value.length > MAX_ITEMS) return fail(path, `a list of at most ${MAX_ITEMS} items`);
    return value.map((element, i) => item(element, `${path}[${i}]`));
  };
}

export function tuple<A, B, C>(items: [Schema<A>, Schema<B>, Schema<C>]): Schema<[A, B, C]> {
  return (value, path) => {
    if (!Array.isArray(value) || value.length !== items.length) return fail(path, `a list of ${items.length} items`);
    return [items[0](value[0], `${path}[0]`), items[1](value[1], `${path}[1]`), items[2](value[2], `${path}[2]`)];
  };
}

type Fields = Record<string, Schema<unknown>>;
type Shape<R extends Fields, O extends Fields> = { [K in keyof R]: ReturnType<R[K]> } & { [K in keyof O]?: ReturnType<O[K]> };

/** An object with the `required` keys and, when present, the `optional` ones; other keys are dropped. */
export function object<R extends Fields, O extends Fields = Record<never, Schema<unknown>>>(
  required: R,
  optional: O = {} as O,
): Schema<Shape<R, O>> {
  return (value, path) => {
    if (kindOf(value) !== 'object') return fail(path, 'an object');
    const source = value as Record<string, unknown>;
    const result: Record<string, unknown> = {};
    const at = (key: string) => (path ? `${path}.${key}` : key);
    for (const [key, schema] of Object.entries(required)) {
      if (!Object.hasOwn(source, key)) return fail(at(key), 'a value (it is missing)');
      result[key] = schema(source[key], at(key));
    }
    for (const [key, schema] of Object.entries(optional)) {
      if (Object.hasOwn(source, key) && source[key] !== undefined) result[key] = schema(source[key], at(key));
    }
    return result as Shape<R, O>;
  };
}

/** Runs a schema without throwing: the clean value, or the one-line reason it does not fit. */
export function check<T>(schema: Schema<T>, value: unknown): { ok: true; value: T } | { ok: false; error: string } {
  try {
    return { ok: true, value: schema(value, '') };
  } catch (error) {
    if (error instanceof SchemaError) return { ok: false, error: error.message };
    throw error;
  }
}
