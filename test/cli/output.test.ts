// terminalSafe: what the CLI does to every line it prints.
import { describe, expect, it } from 'vitest';
import { terminalSafe } from '../../src/cli/output.js';

describe('terminalSafe', () => {
  it('escapes C0, DEL, C1 and bidi controls; keeps newlines, tabs and text', () => {
    expect(terminalSafe('a\x1b]0;t\x07b\r\x7f\x9b\u202ec\n\td é 😀', false)).toBe('a\\x1b]0;t\\x07b\\x0d\\x7f\\x9b\\u202ec\n\td é 😀');
  });

  it('keeps the colour codes of the styles only when colour is on, and never other sequences', () => {
    expect(terminalSafe('\x1b[32mok\x1b[39m', true)).toBe('\x1b[32mok\x1b[39m');
    expect(terminalSafe('\x1b[32mok\x1b[39m', false)).toBe('\\x1b[32mok\\x1b[39m');
    expect(terminalSafe('\x1b[2J\x1b[31;1m\x1b]8;;http://x\x1b\\', true)).toBe('\\x1b[2J\\x1b[31;1m\\x1b]8;;http://x\\x1b\\');
  });
});
