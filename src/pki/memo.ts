// A bounded memo for pure functions of certificate text: a reconcile that changes nothing reads the
// same PEM every time, and parsing it (ASN.1 in JavaScript) was a fifth of the operator's busy time.
// Least recently used entries go first, so the entries of KMSDeployments being reconciled stay.

export class BoundedMemo<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly maxEntries: number) {}

  get(key: K, compute: () => V): V {
    const found = this.entries.get(key);
    if (found !== undefined || this.entries.has(key)) {
      // Map keeps insertion order: re-inserting makes it the most recently used.
      this.entries.delete(key);
      this.entries.set(key, found as V);
      return found as V;
    }
    const value = compute();
    this.entries.set(key, value);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as K);
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}
