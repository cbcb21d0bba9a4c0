/** @jsxImportSource @emotion/react */
import { css, Global } from '@emotion/react';
import styled from '@emotion/styled';
import { prerenderShell, resumeShell, useRenderContext } from '@kiln/core';
import { attr, findAll, parseDocument, textOf } from '@kiln/test-utils';
import { type ReactNode, Suspense } from 'react';
import { describe, expect, test } from 'vitest';
import { emotion } from '../src/index';
import { cssRules } from './css';

const Shared = styled.span`
  color: rgb(10, 20, 30);
`;

const ShellOnly = styled.h1`
  font-size: 31px;
`;

/** A style the greeting uses only for signed-in visitors. */
const member = css`
  border: 3px solid rgb(200, 100, 0);
`;

function Greeting(): ReactNode {
  const name = useRenderContext().cookies.name;
  return (
    <p id="greeting" css={name ? member : undefined}>
      <Shared>Hello {name ?? 'guest'}</Shared>
    </p>
  );
}

function Page(): ReactNode {
  return (
    <html lang="en">
      <head>
        <title>shop</title>
      </head>
      <body>
        <Global styles={{ body: { margin: 0 } }} />
        <ShellOnly>Shop</ShellOnly>
        <Shared>same for all</Shared>
        <Suspense fallback={<p id="greeting">Welcome</p>}>
          <Greeting />
        </Suspense>
      </body>
    </html>
  );
}

/** Every emotion rule of a document with the offset of its `<style>` element. */
function styleRules(html: string): { rule: string; at: number }[] {
  const found: { rule: string; at: number }[] = [];
  let from = 0;
  for (const node of findAll(parseDocument(html), 'style')) {
    if (attr(node, 'data-emotion') === undefined) continue;
    const text = textOf(node);
    const at = html.indexOf(text, from);
    from = at + text.length;
    for (const rule of cssRules(text)) found.push({ rule, at });
  }
  return found;
}

const URL_ = 'http://shop.test/';

describe('@kiln/emotion in a partial pre-render', () => {
  test('the shell’s CSS is in the prelude head; a hole’s new rules go before its segment; no rule twice', async () => {
    const shell = await prerenderShell(<Page />, { url: URL_, plugins: [emotion()] });
    expect(shell.kind).toBe('partial');
    const prelude = shell.prelude.join('');
    const head = prelude.slice(0, prelude.indexOf('</head>'));
    expect(head).toContain('font-size:31px');
    expect(head).toContain('color:rgb(10, 20, 30)');
    expect(head).toContain('margin:0');
    expect(prelude).not.toContain('rgb(200, 100, 0)');

    const result = await resumeShell(shell, <Page />, {
      request: new Request(URL_, {
        headers: { cookie: 'name=Ada', 'user-agent': 'Mozilla/5.0 Chrome/120' },
      }),
      plugins: [emotion()],
      nonce: 'emotionNonce1234567890',
    });
    const html = await result.text();
    const rules = styleRules(html);
    const ruleTexts = rules.map((r) => r.rule);
    expect(new Set(ruleTexts).size).toBe(ruleTexts.length);
    const memberRule = rules.find((r) => r.rule.includes('rgb(200, 100, 0)'));
    expect(memberRule).toBeDefined();
    expect(memberRule!.at).toBeGreaterThan(html.indexOf('</head>'));
    expect(memberRule!.at).toBeLessThan(html.indexOf('id="S:0"'));
    // the shared rule, re-inserted by the hole, went out once: in the head
    expect(rules.filter((r) => r.rule.includes('rgb(10, 20, 30)'))).toHaveLength(1);
    for (const tag of html.match(/<style\b[^>]*>/g) ?? [])
      expect(tag).toContain('nonce="emotionNonce1234567890"');
  });
});
