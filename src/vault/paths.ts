// Every Vault API path the operator sends is assembled here. Names come from specs and from Vault's
// own answers (LIST), so each interpolated value is split at "/" and every segment percent-encoded:
// a value can then neither climb with "..", nor smuggle a "/" or "?" in encoded form (Vault decodes
// the path once, and node-vault turns "&#x2F;" into "/" before sending), nor start a query.

/** `value` ("a/b") with each segment percent-encoded; empty, "." and ".." segments are refused. */
export function encodePathSegments(value: string): string {
  return value
    .split('/')
    .map((segment) => {
      if (segment === '' || segment === '.' || segment === '..') {
        throw new Error(`Vault path ${JSON.stringify(value)} has an empty, "." or ".." segment; refusing to send it`);
      }
      return encodeURIComponent(segment);
    })
    .join('/');
}

/** Tagged template: the literal parts are sent as written, each interpolated value via encodePathSegments. */
export function vaultPath(literals: TemplateStringsArray, ...values: string[]): string {
  return literals.reduce(
    (path, literal, i) => path + literal + (i < values.length ? encodePathSegments(values[i] as string) : ''),
    '',
  );
}

/**
 * `text` for a message or event: at most `max` characters, with anything outside printable ASCII
 * (control characters, bidi overrides, look-alikes) shown as \u escapes, in double quotes.
 */
export function quoteUntrusted(text: string, max = 64): string {
  const shown = text.slice(0, max).replace(/[^\x20-\x7e]|["\\]/g,
    (c) => (c === '"' || c === '\\' ? `\\${c}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  return `"${shown}"${text.length > max ? '…' : ''}`;
}
