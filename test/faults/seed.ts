// Reproducible randomness for the fault suite: one seed per run (printed by the runner, replayed
// with --seed), from which every case draws its own plan with fast-check's seeded sampler.
import fc from 'fast-check';

let fallback: number | undefined;

/** The run's seed: $KMSSTACK_FAULT_SEED (the runner sets it), else one chosen now and printed. */
export function faultSeed(): number {
  const fromEnv = process.env.KMSSTACK_FAULT_SEED;
  if (fromEnv !== undefined && fromEnv !== '') {
    const seed = Number(fromEnv);
    if (!Number.isSafeInteger(seed)) throw new Error(`KMSSTACK_FAULT_SEED must be an integer (got ${JSON.stringify(fromEnv)})`);
    return seed;
  }
  if (fallback === undefined) {
    fallback = Math.floor(Math.random() * 2 ** 31);
    console.log(`fault seed ${fallback} (replay with KMSSTACK_FAULT_SEED=${fallback})`);
  }
  return fallback;
}

/** $KMSSTACK_FAULT_TRIALS, else `standard`. */
export function trialCount(standard: number): number {
  const fromEnv = Number(process.env.KMSSTACK_FAULT_TRIALS ?? '');
  return Number.isSafeInteger(fromEnv) && fromEnv > 0 ? fromEnv : standard;
}

/** A case's own seed: the run's seed mixed with the case name, so cases do not share draws. */
function caseSeed(caseName: string): number {
  let hash = faultSeed() | 0;
  for (const char of caseName) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) | 0;
  return hash;
}

/** `count` values of `arbitrary`, the same for the same seed and case name. */
export function draw<T>(caseName: string, arbitrary: fc.Arbitrary<T>, count: number): T[] {
  return fc.sample(arbitrary, { seed: caseSeed(caseName), numRuns: count });
}
