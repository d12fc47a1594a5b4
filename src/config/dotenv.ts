import { existsSync } from 'node:fs';

/**
 * Reads a `.env` file into `env` when there is one, with Node's own parser (process.loadEnvFile,
 * Node 20.12+): `npm start` and `node dist/main.js` take the same file `docker compose` does.
 * A variable already in the environment wins over the file. Returns the file read, if any.
 */
export function loadDotEnv(path = '.env'): string | undefined {
  if (!existsSync(path)) return undefined;
  process.loadEnvFile(path);
  return path;
}
