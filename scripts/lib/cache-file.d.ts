/** The types of cache-file.js, which fast-start.js loads before TypeScript can run. */
export function cacheDir(name: string): string;
export function fileEntry(filename: string): string;
export function readCacheEntry(name: string, entry: string): string | undefined;
export function readFileEntry(name: string, filename: string, key: string): Buffer | undefined;
export function writeCacheEntry(name: string, entry: string, text: string | Uint8Array): void;
export function writeFileEntry(name: string, filename: string, key: string, data: string | Uint8Array): void;
