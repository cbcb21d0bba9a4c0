import { parse } from 'parse5';

/** A parse5 element node (the subset the tests read). */
export interface Element {
  nodeName: string;
  tagName?: string;
  attrs?: { name: string; value: string }[];
  childNodes?: Element[];
  value?: string;
  content?: Element;
}

/** Parses a whole HTML document the way a browser does (parse5 follows the HTML spec). */
export function parseDocument(html: string): Element {
  return parse(html) as unknown as Element;
}

/** Every element below `node` whose tag name is `tag`, in document order. */
export function findAll(node: Element, tag: string): Element[] {
  const found: Element[] = [];
  const walk = (n: Element) => {
    if (n.tagName === tag) found.push(n);
    for (const c of n.childNodes ?? []) walk(c);
    if (n.content) walk(n.content);
  };
  walk(node);
  return found;
}

/** The concatenated text of an element's child text nodes. */
export function textOf(node: Element): string {
  return (node.childNodes ?? [])
    .map((c) => (c.nodeName === '#text' ? (c.value ?? '') : textOf(c)))
    .join('');
}

/** The value of an attribute, or undefined. */
export function attr(node: Element, name: string): string | undefined {
  return node.attrs?.find((a) => a.name === name)?.value;
}
