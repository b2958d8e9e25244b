import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';

function memoryStream(lines: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
}

describe('logger', () => {
  it('censors secret fields even if a caller passes one by mistake', () => {
    const lines: string[] = [];
    const logger = createLogger({ destination: memoryStream(lines), timestamp: false });
    logger.info({ secretAccessKey: 'wJalrXUtnFEMI/K7MDENG', key: { aws_session_token: 'FwoGZXIvYXdzE' } }, 'created');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('wJalrXUtnFEMI');
    expect(lines[0]).not.toContain('FwoGZXIvYXdzE');
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'created', secretAccessKey: '[secret]', key: { aws_session_token: '[secret]' } });
  });
});
