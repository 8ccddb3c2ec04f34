// Serializes JSON data as a Lua 5.1 table constructor, so a fixture can be handed to a Lua script as
// the table Argo CD would build from the live object. Strings are written byte by byte with decimal
// escapes for anything outside printable ASCII, which Lua 5.1 reads back unchanged.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function luaString(text: string): string {
  let out = '"';
  for (const byte of Buffer.from(text, 'utf8')) {
    const printable = byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c;
    out += printable ? String.fromCharCode(byte) : `\\${byte}`;
  }
  return `${out}"`;
}

export function luaLiteral(value: Json): string {
  if (value === null) return 'nil';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot write ${value} as a Lua number`);
    return String(value);
  }
  if (typeof value === 'string') return luaString(value);
  if (Array.isArray(value)) return `{ ${value.map(luaLiteral).join(', ')} }`;
  // JSON null members are absent keys in Argo CD's table, as in Lua; leave them out.
  const entries = Object.entries(value).filter(([, member]) => member !== null);
  return `{ ${entries.map(([key, member]) => `[${luaString(key)}] = ${luaLiteral(member)}`).join(', ')} }`;
}
