/**
 * Keeps credentials out of what leaves an activity (results, error messages), since Temporal stores both
 * in workflow history in plain text and shows them in the Web UI.
 */

export const REDACTED = '[redacted]';

/** NetBox fields that hold credentials: the webhook `secret`, token `key`/`token`, passwords. */
const SECRET_KEYS = /^(secret|key|token|password|plaintext|api_key|private_key)$/i;

/**
 * A copy of a NetBox JSON body with credential fields blanked, and every occurrence of a known secret
 * (the instance's token, its webhook secret) replaced wherever else it shows up.
 */
export function redactBody(value: unknown, knownSecrets: Array<string | null | undefined>): unknown {
  const secrets = secretPieces(knownSecrets);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return scrub(v, secrets);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, inner] of Object.entries(v)) {
        out[k] = SECRET_KEYS.test(k) && typeof inner === 'string' && inner !== '' ? REDACTED : walk(inner);
      }
      return out;
    }
    return v;
  };
  return walk(value);
}

/** The text with every known secret (and the key and secret halves of a v2 token) replaced. */
export function redactText(text: string, knownSecrets: Array<string | null | undefined>): string {
  return scrub(text, secretPieces(knownSecrets));
}

function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

function secretPieces(knownSecrets: Array<string | null | undefined>): string[] {
  const pieces = new Set<string>();
  for (const raw of knownSecrets) {
    const s = raw?.trim();
    if (!s) continue;
    pieces.add(s);
    // v2 tokens `nbt_<key>.<secret>`: either half alone is still sensitive.
    const v2 = /^nbt_([^.]+)\.(.+)$/.exec(s);
    if (v2) {
      if (v2[1].length >= 8) pieces.add(v2[1]);
      if (v2[2].length >= 8) pieces.add(v2[2]);
    }
  }
  // Longest first, so a token is replaced whole before its halves are looked for.
  return [...pieces].sort((a, b) => b.length - a.length);
}
