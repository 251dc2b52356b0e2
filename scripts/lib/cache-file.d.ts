/** The types of cache-file.js, which fast-start.js loads before TypeScript can run. */
export function cacheDir(name: string): string;
export function fileEntry(filename: string): string;
export function readFileEntry(name: string, filename: string, key: string): Buffer | undefined;
export function writeFileEntry(name: string, filename: string, key: string, data: string | Uint8Array): void;
