#!/usr/bin/env node
// `npm start`: LAP on this machine with its embedded defaults (local runtime, SQLite in LAP_DATA_DIR).
import { pino } from 'pino';
import { loadConfig } from './config.ts';
import { startGateway } from './gateway.ts';

const log = pino({ base: { part: 'gateway' }, timestamp: pino.stdTimeFunctions.isoTime });

async function main(): Promise<void> {
  const config = loadConfig();
  const gateway = await startGateway(config, { log: log.child({}, { level: config.logLevel }) });
  const key = gateway.masterKeyFile ? `the master key is in ${gateway.masterKeyFile}` : 'the master key is LAP_MASTER_KEY';
  log.info({ url: gateway.url, dataDir: config.dataDir, masterKeyFile: gateway.masterKeyFile, maxSessions: config.maxLiveSessions }, 'LAP is up');
  process.stderr.write(`\nLAP is up at ${gateway.url}  (API docs: ${gateway.url}/docs)\n${key}; try:\n  curl -H "Authorization: Bearer $(cat ${gateway.masterKeyFile ?? '<key>'})" ${gateway.url}/api/v1/managed_agents/agents\n\n`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'stopping; sandboxes keep running and are re-adopted at the next start');
      gateway.close().then(() => process.exit(0), (err: Error) => {
        log.error({ err: err.message }, 'unclean stop');
        process.exit(1);
      });
    });
  }
}

main().catch((err: Error) => {
  log.fatal({ err: err.message }, 'LAP could not start');
  process.stderr.write(`\nLAP could not start: ${err.message}\n`);
  process.exit(1);
});
