// The KMSDeployments whose storage could overlap one deployment's, found without comparing it with every
// other: each reconcile asks, so a plain scan made converging N deployments cost N² comparisons (4 % of
// the operator's time at N = 500). The index only narrows the set: olderOverlap and sharesPrefix of
// tenancy.ts still decide on the candidates, so the rules stay in one place.
import { type KeyLocation, serverOf, storagePaths } from './tenancy.ts';

/** `spelling` is the index in storagePaths: each of the two spellings is compared with its own kind only. */
function slotOf(location: KeyLocation, spelling: number, path: string): string {
  return `${serverOf(location.address)}\u0000${spelling}\u0000${path}`;
}

/** "a/b/c" → "a", "a/b": the paths that contain this one. */
function ancestorsOf(path: string): string[] {
  const parts = path.split('/');
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

function addTo(map: Map<string, Set<KeyLocation>>, key: string, location: KeyLocation): void {
  let set = map.get(key);
  if (!set) map.set(key, set = new Set());
  set.add(location);
}

function removeFrom(map: Map<string, Set<KeyLocation>>, key: string, location: KeyLocation): void {
  const set = map.get(key);
  set?.delete(location);
  if (set?.size === 0) map.delete(key);
}

/**
 * Key locations by server and path, kept up to date from a list of sources (one per deployment) whose
 * identity changes when the deployment does: `sync` touches only the entries that changed.
 */
export class KeyLocationIndex<Source extends object> {
  private readonly entries = new Map<string, { source: Source; location: KeyLocation | undefined }>();
  /** Locations stored exactly at a path. */
  private readonly atPath = new Map<string, Set<KeyLocation>>();
  /** Locations stored strictly inside a path. */
  private readonly inside = new Map<string, Set<KeyLocation>>();

  /** `keyOf` is asked of every source on every sync, `locationOf` only of a source that changed. */
  constructor(
    private readonly keyOf: (source: Source) => string,
    private readonly locationOf: (source: Source) => KeyLocation | undefined,
  ) {}

  /** Makes the index hold exactly `sources`. */
  sync(sources: Iterable<Source>): void {
    const seen = new Set<string>();
    for (const source of sources) {
      const key = this.keyOf(source);
      seen.add(key);
      const known = this.entries.get(key);
      if (known?.source === source) continue;
      const location = this.locationOf(source);
      if (known?.location) this.unlink(known.location);
      if (location) this.link(location);
      this.entries.set(key, { source, location });
    }
    for (const [key, { location }] of this.entries) {
      if (seen.has(key)) continue;
      if (location) this.unlink(location);
      this.entries.delete(key);
    }
  }

  /** Every indexed location whose storage equals, contains or lies inside `self`'s (a superset of the overlaps; `self` may be among them). */
  candidates(self: KeyLocation): KeyLocation[] {
    const found = new Set<KeyLocation>();
    const add = (set: Set<KeyLocation> | undefined) => set?.forEach((location) => found.add(location));
    storagePaths(self).forEach((path, spelling) => {
      add(this.atPath.get(slotOf(self, spelling, path)));
      add(this.inside.get(slotOf(self, spelling, path)));
      for (const ancestor of ancestorsOf(path)) add(this.atPath.get(slotOf(self, spelling, ancestor)));
    });
    return [...found];
  }

  private link(location: KeyLocation): void {
    storagePaths(location).forEach((path, spelling) => {
      addTo(this.atPath, slotOf(location, spelling, path), location);
      for (const ancestor of ancestorsOf(path)) {
        addTo(this.inside, slotOf(location, spelling, ancestor), location);
      }
    });
  }

  private unlink(location: KeyLocation): void {
    storagePaths(location).forEach((path, spelling) => {
      removeFrom(this.atPath, slotOf(location, spelling, path), location);
      for (const ancestor of ancestorsOf(path)) {
        removeFrom(this.inside, slotOf(location, spelling, ancestor), location);
      }
    });
  }
}
