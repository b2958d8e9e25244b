import { describe, expect, it } from 'vitest';
import { LineSplitter, LineWriter, encodeLine, type LineEvent, type LineSink } from '../../src/ipc/framing.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function splitAll(chunks: readonly Uint8Array[], maxLineBytes = 64): LineEvent[] {
  const splitter = new LineSplitter({ maxLineBytes });
  return [...chunks.flatMap((chunk) => splitter.push(chunk)), ...splitter.end()];
}

const lines = (...texts: string[]): LineEvent[] => texts.map((text) => ({ kind: 'line', text }));

describe('LineSplitter', () => {
  it('answers every line of a chunk that holds many', () => {
    expect(splitAll([bytes('a\nbb\n\nccc\n')])).toEqual(lines('a', 'bb', '', 'ccc'));
  });

  it('puts together a line that arrives one byte at a time', () => {
    const all = bytes('{"jsonrpc":"2.0","id":1}\nnext\n');
    expect(splitAll(Array.from(all, (byte) => Uint8Array.of(byte)))).toEqual(lines('{"jsonrpc":"2.0","id":1}', 'next'));
  });

  // nx's reader looked only at whether a chunk ended with the delimiter (STYLE.md): a delimiter,
  // a CRLF or a character split anywhere must change nothing.
  it('gives the same lines wherever the stream is cut, across newlines, CRLF and multi-byte characters', () => {
    const all = bytes('é€😀\r\n{"a":"ü"}\n\nlast line\r\n');
    const expected = lines('é€😀', '{"a":"ü"}', '', 'last line');
    for (let cut = 0; cut <= all.length; cut++) {
      expect(splitAll([all.subarray(0, cut), all.subarray(cut)]), `cut at ${cut}`).toEqual(expected);
      for (let second = cut; second <= all.length; second++) {
        expect(splitAll([all.subarray(0, cut), all.subarray(cut, second), all.subarray(second)]), `cuts at ${cut}, ${second}`).toEqual(expected);
      }
    }
  });

  it('takes CRLF and LF alike, and keeps a CR inside a line', () => {
    expect(splitAll([bytes('a\r\nb\nc\rd\n\r\n')])).toEqual(lines('a', 'b', 'c\rd', ''));
  });

  it('accepts a line of exactly the cap, with LF or CRLF', () => {
    const line = 'x'.repeat(64);
    expect(splitAll([bytes(`${line}\n${line}\r\n`)])).toEqual(lines(line, line));
    expect(splitAll([bytes(`${line}\r`), bytes('\n')])).toEqual(lines(line));
  });

  it('reports a line one byte over the cap once, then carries on with the next', () => {
    expect(splitAll([bytes(`${'x'.repeat(65)}\nok\n`)])).toEqual([{ kind: 'too-long', bytes: 65 }, ...lines('ok')]);
    expect(splitAll([bytes(`${'x'.repeat(65)}\r\nok\n`)])).toEqual([{ kind: 'too-long', bytes: 66 }, ...lines('ok')]);
  });

  it('reports a long line spread over many chunks once, keeps none of it, and reads on after its newline', () => {
    const splitter = new LineSplitter({ maxLineBytes: 64 * 1024 });
    const chunk = new Uint8Array(16 * 1024).fill(0x78);
    const events: LineEvent[] = [];
    let mostHeld = 0;
    for (let i = 0; i < 640; i++) {
      events.push(...splitter.push(chunk));
      mostHeld = Math.max(mostHeld, splitter.bufferedBytes);
    }
    events.push(...splitter.push(bytes('tail of it\r\n{"good":true}\n')));
    expect(events).toEqual([{ kind: 'too-long', bytes: 80 * 1024 }, ...lines('{"good":true}')]);
    expect(mostHeld).toBeLessThanOrEqual(64 * 1024 + 1);
    expect(splitter.bufferedBytes).toBe(0);
  });

  it('says when a line is not UTF-8, and carries on', () => {
    expect(splitAll([Uint8Array.of(0x61, 0xff, 0x62, 0x0a), bytes('ok\n')])).toEqual([{ kind: 'not-utf8' }, ...lines('ok')]);
    // A character cut off by the newline is not UTF-8 either.
    expect(splitAll([Uint8Array.of(0xe2, 0x82, 0x0a)])).toEqual([{ kind: 'not-utf8' }]);
  });

  it('delivers a last line without a newline at the end, and nothing of a skipped one', () => {
    expect(splitAll([bytes('a\nlast')])).toEqual(lines('a', 'last'));
    expect(splitAll([bytes(`a\n${'x'.repeat(100)}`)])).toEqual([...lines('a'), { kind: 'too-long', bytes: 100 }]);
    const splitter = new LineSplitter({ maxLineBytes: 8 });
    splitter.push(bytes('abc'));
    expect(splitter.hasPartialLine).toBe(true);
    splitter.push(bytes('\n'));
    expect(splitter.hasPartialLine).toBe(false);
  });
});

describe('encodeLine', () => {
  it('writes one JSON value as one line, newlines inside strings escaped', () => {
    expect(encodeLine({ a: 'x\ny\r\u2028' })).toBe('{"a":"x\\ny\\r\u2028"}\n');
  });

  it('refuses what JSON cannot hold', () => {
    expect(() => encodeLine(undefined)).toThrow(TypeError);
    expect(() => encodeLine({ n: 1n })).toThrow(TypeError);
  });
});

describe('LineWriter', () => {
  function createSink(): LineSink & { written: string[]; writableLength: number; writable: boolean } {
    const sink = {
      written: [] as string[],
      writableLength: 0,
      writable: true,
      write(data: string) {
        sink.written.push(data);
        sink.writableLength += Buffer.byteLength(data);
        return false;
      },
    };
    return sink;
  }

  it('queues up to the cap, then calls onOverflow once and writes nothing more', () => {
    const sink = createSink();
    const overflows: number[] = [];
    const writer = new LineWriter(sink, { maxBufferedBytes: 100, onOverflow: (buffered) => overflows.push(buffered) });
    const value = { text: 'x'.repeat(30) }; // 42 bytes a line
    expect(writer.write(value)).toBe(true);
    expect(writer.write(value)).toBe(true);
    expect(writer.write(value)).toBe(false);
    expect(writer.write(value)).toBe(false);
    expect(overflows).toEqual([84]);
    expect(sink.written).toHaveLength(2);
  });

  it('always takes one line onto an empty queue, however long', () => {
    const sink = createSink();
    const writer = new LineWriter(sink, { maxBufferedBytes: 10, onOverflow: () => expect.fail('no overflow') });
    expect(writer.write({ text: 'x'.repeat(1000) })).toBe(true);
  });

  it('writes nothing to a sink that is closed', () => {
    const sink = createSink();
    sink.writable = false;
    expect(new LineWriter(sink, { maxBufferedBytes: 10, onOverflow: () => undefined }).write({})).toBe(false);
    expect(sink.written).toEqual([]);
  });
});
