import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  markdownFiles,
  readApi,
  rel,
  repoRoot,
  runTypedoc,
  type Snippet,
  snippetsFromMarkdown,
  typecheckSnippets,
} from '../src/index';

/** A snippet with a type error, checked with the docs' code: the checker must name its source. */
const broken: Snippet = {
  source: 'docs/broken.md:3',
  lang: 'ts',
  code: "import { renderToHtml } from '@kiln/core';\nconst n: number = renderToHtml;\n",
};

describe('docs', () => {
  it('the API reference builds with no warning, every callable export has an @example, and all code type-checks', async () => {
    const json = await runTypedoc(join(repoRoot, '.tmp/api.json'));
    const api = readApi(json);
    expect(api.missingExamples, 'exports without an @example').toEqual([]);
    const fromMarkdown = markdownFiles().flatMap((f) =>
      snippetsFromMarkdown(readFileSync(f, 'utf8'), rel(f)),
    );
    // One type-check for all the code, with a broken snippet as the control: the checker must
    // report it, with its source, and nothing else.
    const errors = await typecheckSnippets([...api.snippets, ...fromMarkdown, broken]);
    expect(errors.join('\n'), 'the broken control snippet, named by its source').toContain(
      broken.source,
    );
    expect(
      errors.filter((error) => !error.startsWith(broken.source)),
      'type errors in docs code',
    ).toEqual([]);
  });

  it('the checker sees fences and skips no-check ones', () => {
    const md =
      '# x\n```ts\nconst a: number = 1;\n```\n```ts no-check\nbroken(\n```\n```sh\nls\n```\n';
    const s = snippetsFromMarkdown(md, 'x.md');
    expect(s).toHaveLength(1);
    expect(s[0]!.source).toBe('x.md:2');
  });
});
