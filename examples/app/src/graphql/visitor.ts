import { parse, serialize } from 'cookie';

/** The cookie that holds the signed-in visitor's name. */
export const VISITOR_COOKIE = 'kiln_visitor';

/** Signed-in visitors get this discount on every price. */
export const MEMBER_DISCOUNT_PERCENT = 10;

/**
 * The visitor's name from a `cookie` header, or undefined for a guest. Names are trimmed and
 * limited to 40 characters.
 *
 * @example
 * visitorFromCookieHeader('kiln_visitor=Ada'); // 'Ada'
 */
export function visitorFromCookieHeader(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  return cleanVisitorName(parse(header)[VISITOR_COOKIE]);
}

/** Trims a name to at most 40 characters; an empty name is a guest (undefined). */
export function cleanVisitorName(name: string | null | undefined): string | undefined {
  const clean = name?.trim().slice(0, 40);
  return clean ? clean : undefined;
}

/**
 * The `set-cookie` value that signs a visitor in (or out, with `undefined`).
 *
 * @example
 * visitorCookie('Ada'); // 'kiln_visitor=Ada; Max-Age=2592000; Path=/; HttpOnly; SameSite=Lax'
 */
export function visitorCookie(name: string | undefined): string {
  return serialize(VISITOR_COOKIE, name ?? '', {
    maxAge: name ? 60 * 60 * 24 * 30 : 0,
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
  });
}
