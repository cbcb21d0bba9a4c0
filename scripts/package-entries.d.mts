/** Dist file stem → source file (`{ index: 'src/index.ts' }`) of the package in `dir`. */
export function packageEntries(dir: string): Record<string, string>;
