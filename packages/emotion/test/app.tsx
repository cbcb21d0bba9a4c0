import { type ReactNode, useEffect } from 'react';
import { alice, bob, Page, type Product, products, type Visitor } from './page';

/** Marks the document once React hydrated (effects run only in the browser). */
export function HydrationMark(): ReactNode {
  useEffect(() => {
    document.documentElement.setAttribute('data-hydrated', '');
  }, []);
  return null;
}

/** The visitor named in the URL (`?visitor=bob`), Alice by default. */
export function visitorFor(url: URL): Visitor {
  return url.searchParams.get('visitor') === 'bob' ? bob : alice;
}

/** The app the browser tests render on the server and hydrate in the browser. */
export function App({ visitor, late }: { visitor: Visitor; late: Promise<Product[]> }): ReactNode {
  return (
    <Document>
      <Page visitor={visitor} late={late} />
    </Document>
  );
}

/** The same app without the document, for a template render (`<div id="root">` in an HTML template). */
export function TemplateApp({
  visitor,
  late,
}: {
  visitor: Visitor;
  late: Promise<Product[]>;
}): ReactNode {
  return (
    <>
      <Page visitor={visitor} late={late} />
      <HydrationMark />
    </>
  );
}

/** The HTML template of the template renders. */
export const TEMPLATE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>kiln emotion template</title>
    <!--app-head-->
  </head>
  <body>
    <div id="root"><!--app-html--></div>
  </body>
</html>`;

/** The late boundary's data. */
export const lateProducts: Product[] = products.slice().reverse();

/** A bare document around `children`, marked once hydrated. */
export function Document({ children }: { children: ReactNode }): ReactNode {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <title>kiln emotion</title>
      </head>
      <body>
        {children}
        <HydrationMark />
      </body>
    </html>
  );
}
