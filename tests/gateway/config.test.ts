// The gateway's environment, checked at start: every bad value is refused with a message naming the
// variable, before anything listens.
import { totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../gateway/config.ts';
import { startGateway } from '../../gateway/gateway.ts';

describe('loadConfig', () => {
  it('listens on 127.0.0.1:8080 by default and takes LAP_PORT=0 as a free port', () => {
    expect(loadConfig({})).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(loadConfig({ LAP_PORT: '0' }).port).toBe(0);
  });

  it('refuses a LAP_PORT that is not a port, naming it', () => {
    expect(() => loadConfig({ LAP_PORT: '80a' })).toThrow(/LAP_PORT must be an integer from 0 to 65535, got "80a"/);
    expect(() => loadConfig({ LAP_PORT: '65536' })).toThrow(/LAP_PORT/);
  });

  it.each([6000, 10080, 22])('refuses LAP_PORT %i, which browsers and lap would refuse to connect to', (port) => {
    expect(() => loadConfig({ LAP_PORT: String(port) })).toThrow(new RegExp(`LAP_PORT ${port} is one that browsers and fetch refuse[^]*choose another port`));
  });

  it('keeps a million events per session by default and refuses a LAP_MAX_EVENTS_PER_SESSION out of range', () => {
    expect(loadConfig({}).maxEventsPerSession).toBe(1_000_000);
    expect(loadConfig({ LAP_MAX_EVENTS_PER_SESSION: '5000' }).maxEventsPerSession).toBe(5000);
    expect(() => loadConfig({ LAP_MAX_EVENTS_PER_SESSION: '10' })).toThrow(/LAP_MAX_EVENTS_PER_SESSION must be an integer from 100 to 1000000000, got "10"/);
  });

  it('allows one live session per 256 MiB of memory by default, and takes LAP_MAX_SESSIONS', () => {
    expect(loadConfig({}).maxLiveSessions).toBe(Math.floor(totalmem() / (256 * 1024 * 1024)));
    expect(loadConfig({ LAP_MAX_SESSIONS: '3' }).maxLiveSessions).toBe(3);
    expect(() => loadConfig({ LAP_MAX_SESSIONS: '0' })).toThrow(/LAP_MAX_SESSIONS must be an integer from 1 to 100000, got "0"/);
  });

  it('names the variable and the entry of a malformed LAP_WARM_POOL', () => {
    expect(() => loadConfig({ LAP_WARM_POOL: 'shell' })).toThrow(/LAP_WARM_POOL must be a comma-separated list of name=value, got "shell"/);
    expect(() => loadConfig({ LAP_WARM_POOL: 'shell=99' })).toThrow(/LAP_WARM_POOL shell count must be an integer from 0 to 64/);
  });
});

describe('startGateway with a data directory it cannot create', () => {
  // /proc answers mkdir with ENOENT although /proc exists: Node's recursive mkdir loops on that forever.
  it.each(['/proc/lap-data-test', '/etc/hostname/lap-data-test'])('fails at once for %s, naming LAP_DATA_DIR', async (dataDir) => {
    await expect(startGateway(loadConfig({ LAP_DATA_DIR: dataDir, LAP_PORT: '0' }))).rejects.toThrow(new RegExp(`cannot create LAP_DATA_DIR ${dataDir}: E(NOENT|NOTDIR)`));
  });
});
