/**
 * `it`s whose bodies start together (at most `limit` at a time) once the describe's earlier `before` hooks ran,
 * each reported by its own `it`: for tests that mostly wait on other processes (the Pulumi CLI), so that they
 * overlap instead of queueing.
 */
export function overlapped(limit: number): (title: string, body: () => Promise<void>) => void {
  const tests: { body: () => Promise<void>; result?: Promise<void> }[] = [];
  before(() => {
    let running = 0;
    const waiting: (() => void)[] = [];
    for (const test of tests) {
      test.result = (async () => {
        if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
        running++;
        try {
          await test.body();
        } finally {
          running--;
          waiting.shift()?.();
        }
      })();
      test.result.catch(() => undefined); // reported by its own it
    }
  });
  return (title, body) => {
    const test: (typeof tests)[number] = { body };
    tests.push(test);
    it(title, () => test.result!);
  };
}
