// The project runs on Node 24 from node_modules (type stripping of .ts files); the machine's own node
// is older and must never be the one running the suites.
import { describe, expect, it } from 'vitest';

describe('toolchain', () => {
  it('runs the tests on Node 24', () => {
    expect(process.version.startsWith('v24.')).toBe(true);
  });
});
