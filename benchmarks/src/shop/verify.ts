/**
 * Correctness checks of a rendered shop document, run before anything is timed so that a broken
 * row cannot look fast.
 */
import { PRODUCT_COUNT, REVIEWS_PER_PRODUCT, viewerFor } from './data';
import { EMOTION_KEY } from './providers';

/** What a page must show. */
export interface ShopExpectations {
  /** The `user` cookie the page was rendered for; undefined for a guest. */
  user?: string | undefined;
  /**
   * Whether the page must carry the Apollo cache for the browser (a `<script>` holding the
   * review texts). Default true.
   */
  state?: boolean;
  /** Whether the page must be a whole document with a `<head>`. Default true. */
  document?: boolean;
  /** Whether the page must carry the styles of its emotion classes. Default true. */
  styles?: boolean;
}

const scriptPattern = /<script\b[^>]*>([\s\S]*?)<\/script>/gi;
const stylePattern = /<style\b[^>]*>([\s\S]*?)<\/style>/gi;
const classAttributePattern = /\sclass="([^"]*)"/g;

function escapeHtmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Returns the problems of `html` as a page for `expectations.user` (an empty list when it is
 * right): the visitor's greeting, all product cards with all their reviews, styles for every
 * emotion class before its first use (and some in `<head>`), no markup injection from the
 * review texts, and a state script that cannot break out of its `<script>`.
 *
 * @example
 * ```ts
 * const problems = shopPageProblems(html, { user: 'ada' });
 * if (problems.length) throw new Error(problems.join('\n'));
 * ```
 */
export function shopPageProblems(html: string, expectations: ShopExpectations = {}): string[] {
  const problems: string[] = [];
  const viewer = viewerFor(expectations.user);
  if (viewer) {
    const greeting = `Welcome back, <b>${escapeHtmlText(viewer.name)}</b>`;
    if (!html.includes(greeting)) problems.push(`no greeting for ${viewer.name}`);
  } else {
    if (!html.includes('Welcome, guest.')) problems.push('no guest greeting');
    if (html.includes('Welcome back,')) problems.push('a guest sees a signed-in greeting');
  }

  const cards = new Set(Array.from(html.matchAll(/data-product="(p\d{3})"/g), (m) => m[1]));
  if (cards.size !== PRODUCT_COUNT)
    problems.push(`${cards.size} product cards, expected ${PRODUCT_COUNT}`);
  const reviews = html.match(/<time dateTime="/gi)?.length ?? 0;
  if (reviews !== PRODUCT_COUNT * REVIEWS_PER_PRODUCT) {
    problems.push(`${reviews} reviews, expected ${PRODUCT_COUNT * REVIEWS_PER_PRODUCT}`);
  }

  if (html.includes('<script>alert("pwned")')) problems.push('review text injected a <script>');
  if (html.includes('<b>dishwasher safe</b>')) problems.push('review text injected markup');
  if (!html.includes('a &lt; b')) problems.push('the text "a < b" is missing or not escaped');

  let stateFound = false;
  for (const match of html.matchAll(scriptPattern)) {
    const body = match[1] ?? '';
    if (/<!--|<script|<\/script/i.test(body))
      problems.push('a <script> body contains <!-- or <script');
    if (/[\u2028\u2029]/.test(body)) problems.push('a <script> body contains a raw U+2028/U+2029');
    if (body.includes('pwned')) stateFound = true;
  }
  if ((expectations.state ?? true) && !stateFound)
    problems.push('no state script with the reviews');

  const styles: { at: number; css: string }[] = [];
  for (const match of html.matchAll(stylePattern)) {
    if (/<\/?style|<script/i.test(match[1] ?? '')) problems.push('a <style> body contains markup');
    styles.push({ at: match.index ?? 0, css: match[1] ?? '' });
  }
  const headEnd = html.indexOf('</head>');
  if (expectations.document ?? true) {
    if (!html.startsWith('<!DOCTYPE html>')) problems.push('no <!DOCTYPE html>');
    if (headEnd === -1) problems.push('no </head>');
    else if (
      !styles.some((style) => style.at < headEnd && style.css.includes(`.${EMOTION_KEY}-`))
    ) {
      problems.push('no critical CSS in <head>');
    }
  }
  const checked = new Set<string>();
  const needStyles = expectations.styles ?? true;
  for (const match of html.matchAll(classAttributePattern)) {
    const at = match.index ?? 0;
    for (const name of (match[1] ?? '').split(/\s+/)) {
      if (!name.startsWith(`${EMOTION_KEY}-`) || checked.has(name)) continue;
      checked.add(name);
      if (needStyles && !styles.some((style) => style.at < at && style.css.includes(`.${name}`))) {
        problems.push(`class ${name} is used before any style defines it`);
      }
    }
  }
  if (checked.size < 15) problems.push(`only ${checked.size} emotion classes on the page`);
  return problems;
}

/**
 * Throws when {@link shopPageProblems} finds anything, naming the row and the problems.
 *
 * @example
 * ```ts
 * assertShopPage('hand-rolled', html, { user: 'ada' });
 * ```
 */
export function assertShopPage(
  row: string,
  html: string,
  expectations: ShopExpectations = {},
): void {
  const problems = shopPageProblems(html, expectations);
  if (problems.length > 0) {
    throw new Error(
      `[kiln/benchmarks] ${row} renders a wrong page for ${expectations.user ?? 'a guest'}: ${problems.join('; ')}`,
    );
  }
}
