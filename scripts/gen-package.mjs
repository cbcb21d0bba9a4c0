// Writes the package.json of a @kiln package in the shared shape. Run once per new package;
// edit the result by hand afterwards (dependencies, description).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';

const [name, description] = process.argv.slice(2);
const dir = `packages/${name}`;
mkdirSync(`${dir}/src`, { recursive: true });
const entry = (file) => ({
  '@kiln/source': `./src/${file}.ts`,
  import: { types: `./dist/${file}.d.ts`, default: `./dist/${file}.js` },
  require: { types: `./dist/${file}.d.cts`, default: `./dist/${file}.cjs` },
});
const published = (file) => ({
  import: { types: `./dist/${file}.d.ts`, default: `./dist/${file}.js` },
  require: { types: `./dist/${file}.d.cts`, default: `./dist/${file}.cjs` },
});
const pkg = {
  name: `@kiln/${name}`,
  version: '0.1.0',
  description,
  license: 'MIT',
  type: 'module',
  sideEffects: false,
  engines: { node: '>=20' },
  exports: { '.': entry('index'), './client': entry('client'), './package.json': './package.json' },
  main: './dist/index.cjs',
  module: './dist/index.js',
  types: './dist/index.d.cts',
  typesVersions: { '*': { client: ['./dist/client.d.cts'] } },
  files: ['dist', 'README.md'],
  publishConfig: {
    access: 'public',
    exports: {
      '.': published('index'),
      './client': published('client'),
      './package.json': './package.json',
    },
  },
  scripts: { build: 'tsup' },
  dependencies: {},
  peerDependencies: {},
  devDependencies: {},
};
if (!existsSync(`${dir}/package.json`))
  writeFileSync(`${dir}/package.json`, JSON.stringify(pkg, null, 2) + '\n');
writeFileSync(
  `${dir}/tsconfig.build.json`,
  '{\n  "extends": "../../tsconfig.build.json",\n  "include": ["src"],\n  "exclude": ["src/**/*.test.ts", "src/**/*.test.tsx"]\n}\n',
);
writeFileSync(
  `${dir}/tsup.config.ts`,
  "import { packageBuild } from '../../tsup.shared';\n\nexport default packageBuild();\n",
);
