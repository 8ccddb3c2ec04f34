// The rule for master key names, as KES enforces it: the spec's keys, the KES client and the Vault
// cleanup (which names KV entries after keys) all apply it, so it sits with the API.

const keyNameChars = /^[A-Za-z0-9_-]+$/;
const maxKeyNameLength = 80;

/**
 * Why `name` is not a key name KES accepts, or undefined when it is one. KES allows 1 to 80 letters,
 * digits, "_" and "-", with "-" neither first nor last, and rejects the single name "_".
 */
export function kesKeyNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > maxKeyNameLength) return `must be 1 to ${maxKeyNameLength} characters long`;
  if (!keyNameChars.test(name)) {
    return 'may contain only letters, digits, "_" and "-" (KES rejects other characters, including ".")';
  }
  if (name.startsWith('-') || name.endsWith('-')) return 'must not start or end with "-"';
  if (name === '_') return 'must not be "_"';
  return undefined;
}
