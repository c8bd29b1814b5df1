import { describe, expect, it } from 'vitest';
import { MTLS_ERROR_CODES, MtlsError, isMtlsError } from '../src/index.js';

describe('MtlsError', () => {
  it.each(MTLS_ERROR_CODES)('%s: code, name, message and cause', (code) => {
    const cause = new Error('inner');
    const err = new MtlsError(code, 'what to do', { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(MtlsError);
    expect(err).toMatchObject({ code, name: 'MtlsError', message: 'what to do', cause });
    expect(isMtlsError(err, code)).toBe(true);
    expect(isMtlsError(err, code === 'ERR_FILE_READ' ? 'ERR_BAD_PASSPHRASE' : 'ERR_FILE_READ')).toBe(false);
    expect(String(err)).toBe('MtlsError: what to do');
  });

  it('instanceof holds across copies of the package (the brand is a registry symbol)', () => {
    const foreign = Object.assign(new Error('from another copy'), { code: 'ERR_FILE_READ' });
    expect(foreign instanceof MtlsError).toBe(false);
    Object.defineProperty(foreign, Symbol.for('mtls-resolver.MtlsError'), { value: true });
    expect(foreign instanceof MtlsError).toBe(true);
    expect(isMtlsError(new Error('x'))).toBe(false);
    expect(isMtlsError(null)).toBe(false);
  });
});
