import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./repo";

/** A row of one of the README's message tables: its first cell, and the patterns of that cell's code spans. */
export interface MessageRow {
  text: string;
  patterns: RegExp[];
}

/**
 * The rows of the README's table that follows `heading` (up to the next heading), each first cell's code spans
 * as patterns: `…` stands for anything, `X`, `T`, `P`, `D`, `U`, `N`, `S`, `DIR` for a name, id or number.
 */
export function readmeMessageRows(heading: string): MessageRow[] {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`the README has no heading ${heading}`);
  const end = readme.slice(start + heading.length + 2).search(/\n#+ /);
  const section = end < 0 ? readme.slice(start) : readme.slice(start, start + heading.length + 2 + end);
  return section
    .split("\n")
    .filter((line) => line.startsWith("| ") && line.includes("`") && !/^\| (symptom|after)/.test(line))
    .map((line) => {
      const text = line.split(" | ")[0].slice(2);
      const patterns = [...text.matchAll(/`([^`]+)`/g)].map(
        ([, span]) =>
          new RegExp(
            span
              .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
              .replace(/\s*…\s*/g, ".*")
              .replace(/\b(X|T|P|D|U|N|S|DIR)\b/g, ".+?"),
            "s",
          ),
      );
      return { text, patterns };
    });
}
