const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

/** Cents as dollars, the same on the server and in the browser. */
export function formatPrice(cents: number): string {
  return money.format(cents / 100);
}

/** An ISO timestamp as `YYYY-MM-DD HH:MM:SS UTC`, independent of the time zone. */
export function formatTime(iso: string): string {
  return `${iso.replace('T', ' ').slice(0, 19)} UTC`;
}

/** A stable hue (0–360) for a visitor's name; guests get a neutral slate. */
export function visitorHue(name: string | null): number {
  if (!name) return 215;
  let hash = 0;
  for (const char of name) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) % 360;
  return hash;
}
