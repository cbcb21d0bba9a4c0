import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  markdownFiles,
  readApi,
  rel,
  repoRoot,
  runTypedoc,
  snippetsFromMarkdown,
  typecheckSnippets,
} from '../src/index';

describe('docs', () => {
  it('the API reference builds with no warning, every callable export has an @example, and all code type-checks', async () => {
    const json = await runTypedoc(join(repoRoot, '.tmp/api.json'));
    const api = readApi(json);
    expect(api.missingExamples, 'exports without an @example').toEqual([]);
    const fromMarkdown = markdownFiles().flatMap((f) =>
      snippetsFromMarkdown(readFileSync(f, 'utf8'), rel(f)),
    );
    const errors = await typecheckSnippets([...api.snippets, ...fromMarkdown]);
    expect(errors, 'type errors in docs code').toEqual([]);
  });

  it('the checker sees fences and skips no-check ones', () => {
    const md =
      '# x\n```ts\nconst a: number = 1;\n```\n```ts no-check\nbroken(\n```\n```sh\nls\n```\n';
    const s = snippetsFromMarkdown(md, 'x.md');
    expect(s).toHaveLength(1);
    expect(s[0]!.source).toBe('x.md:2');
  });

  it('a type error in a snippet is reported with its source', async () => {
    const errors = await typecheckSnippets([
      {
        source: 'docs/broken.md:3',
        lang: 'ts',
        code: "import { renderToHtml } from '@kiln/core';\nconst n: number = renderToHtml;\n",
      },
    ]);
    expect(errors.join('\n')).toContain('docs/broken.md:3');
  });
});
