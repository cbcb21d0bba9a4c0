/** Evaluated in the page: every CSS rule of the emotion style elements, as Chromium parsed them (a sorted multiset). */
export function emotionRulesInPage(): string[] {
  const rules: string[] = [];
  for (const sheet of Array.from(document.styleSheets)) {
    if (!(sheet.ownerNode as Element | null)?.hasAttribute('data-emotion')) continue;
    for (const rule of Array.from(sheet.cssRules)) rules.push(rule.cssText);
  }
  return rules.sort();
}

/** The entries of a sorted list equal to the one before. */
export const duplicates = (sorted: string[]): string[] =>
  sorted.filter((rule, i) => i > 0 && sorted[i - 1] === rule);
