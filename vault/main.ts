#!/usr/bin/env node
// The vault process: one per sandbox. `node vault/main.ts --config <file.json>`.
import { parseArgs } from 'node:util';
import { loadVaultConfig, takeToken } from './config.ts';
import { log } from './log.ts';
import { startVault } from './vault.ts';

const { values } = parseArgs({ options: { config: { type: 'string' } } });
if (!values.config) {
  log.fatal('missing --config <file.json>; see vault/README.md for its fields');
  process.exit(2);
}

/** A function, not top-level await: vault/build.ts bundles this file as CommonJS, which has none. */
async function start(configFile: string): Promise<void> {
  try {
    const config = loadVaultConfig(configFile);
    const vault = await startVault(config, takeToken(config.tokenFile), log);
    log.info({ session: config.session, listen: config.listen.address, ports: vault.ports, controlPort: vault.ports.control }, 'vault ready');
    const stop = (signal: string) => {
      log.info({ signal }, 'vault stopping');
      vault.close().finally(() => process.exit(0));
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  } catch (err) {
    log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'vault failed to start; fix the config or the listen addresses and start it again');
    process.exit(1);
  }
}

void start(values.config);
