/** Sets environment variables (`undefined` removes one) for the duration of `fn`, then restores them. */
export async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = apply(vars);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}

/** Sets environment variables for the duration of a `describe` block and restores them after. */
export function useEnv(vars: () => Record<string, string | undefined>): void {
  let saved: Record<string, string | undefined> = {};
  before(() => (saved = apply(vars())));
  after(() => apply(saved));
}

/** Applies `vars` to the environment; returns the values they replaced. */
function apply(vars: Record<string, string | undefined>): Record<string, string | undefined> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return saved;
}
