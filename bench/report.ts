/** BENCHMARKS.md as one file across partial runs (`npm run bench -- --only …`). */

/**
 * The new report, with what the earlier one measured and this run did not (`--only` left it out): its sections
 * (`## …`), and within a section both hold, its subsections (`### …`), each marked as from the earlier run and
 * in the earlier order. One file, every figure it holds dated. Pure.
 */
export function withEarlierSections(report: string, earlier: string): string {
  const date = /^Measured (\d{4}-\d{2}-\d{2})/m.exec(earlier)?.[1] ?? "earlier";
  const from = (part: string) =>
    /^\(From the run of /m.test(part)
      ? part
      : part.replace(/^(#+ .*)\n/, `$1\n\n(From the run of ${date}: not measured in this one.)\n`);
  const [preamble, ...sections] = headed(report, "## ");
  const merged = mergedParts(sections, headed(earlier, "## ").slice(1), from, (now, before) => {
    const [intro, ...subsections] = headed(now, "### ");
    return joined([intro, ...mergedParts(subsections, headed(before, "### ").slice(1), from)]);
  });
  return `${joined([preamble, ...merged])}\n`;
}

/** `text` cut before each line that starts with `heading`: what precedes the first, then each part. */
function headed(text: string, heading: string): string[] {
  return text.split(new RegExp(`^(?=${heading})`, "m"));
}

function joined(parts: readonly string[]): string {
  return parts.map((part) => part.trimEnd()).join("\n\n");
}

/**
 * `next` with the `earlier` parts it lacks, marked by `from`, in the earlier order and `next`'s new parts last
 * (a part is known by its heading line); a part in both is `both(next's, earlier's)`.
 */
function mergedParts(
  next: readonly string[],
  earlier: readonly string[],
  from: (part: string) => string,
  both: (now: string, before: string) => string = (now) => now,
): string[] {
  const title = (part: string) => part.split("\n")[0];
  const unmatched = new Map(next.map((part) => [title(part), part]));
  const ordered = earlier.map((part) => {
    const now = unmatched.get(title(part));
    if (now === undefined) return from(part);
    unmatched.delete(title(part));
    return both(now, part);
  });
  return [...ordered, ...unmatched.values()];
}
