import { Forbidden } from '../errors';

/**
 * Which keys of the inputs bucket an owner may submit, from `LONGTAIL_OWNER_INPUT_PREFIXES`
 * (`owner:prefix|prefix,owner:prefix`). Unset: any key outside the reserved prefixes, for a
 * deployment with one team. Set: each listed owner its prefixes, and any other owner only
 * `<ownerId>/`.
 */
export const parseOwnerInputPrefixes = (spec: string): Map<string, string[]> =>
  new Map(
    spec
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean)
      .map((entry) => {
        const separator = entry.indexOf(':');
        const owner = entry.slice(0, separator).trim();
        const prefixes = entry
          .slice(separator + 1)
          .split('|')
          .map((prefix) => prefix.trim())
          .filter(Boolean);
        if (separator <= 0 || !owner || prefixes.length === 0) {
          throw new Error('LONGTAIL_OWNER_INPUT_PREFIXES must be written "owner:prefix|prefix,owner:prefix"');
        }
        return [owner, prefixes] as const;
      }),
  );

let parsed: { spec: string; prefixes: Map<string, string[]> } | undefined;

/** The prefixes `ownerId` may read, or undefined when inputs are not scoped by owner. */
export const inputPrefixesOf = (
  ownerId: string,
  spec = process.env.LONGTAIL_OWNER_INPUT_PREFIXES ?? '',
): string[] | undefined => {
  if (!spec.trim()) return undefined;
  // Parsed once per spec: a manifest's every entry is checked against it.
  if (parsed?.spec !== spec) parsed = { spec, prefixes: parseOwnerInputPrefixes(spec) };
  return parsed.prefixes.get(ownerId) ?? [`${ownerId}/`];
};

/**
 * Throws 403 INPUT_NOT_ALLOWED unless `key` (or, for a prefix, everything under it) is inside
 * the owner's prefixes.
 */
export const checkInputAllowed = (ownerId: string, key: string) => {
  const prefixes = inputPrefixesOf(ownerId);
  if (!prefixes || prefixes.some((prefix) => key.startsWith(prefix))) return;
  throw new Forbidden(
    'INPUT_NOT_ALLOWED',
    `Owner ${ownerId} may submit inputs under ${prefixes.join(', ')} only; "${key}" is outside.`,
  );
};
