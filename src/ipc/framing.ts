/**
 * Newline-delimited framing for the socket (SPEC "The socket"): bytes in, lines out; values in,
 * lines out. Loads nothing (keyupctl uses it and must start fast).
 *
 * Framing is where daemons break (STYLE.md: nx's reader once looked only at whether each chunk
 * ended with the delimiter, and a delimiter split across chunks hung the client). So this splits
 * on bytes, never on decoded text, caps what one line may buffer, and decodes a line only once
 * it is whole, which also keeps a UTF-8 character split across chunks intact.
 */

const LF = 0x0a;
const CR = 0x0d;

/** What the splitter makes of the bytes it is given, in order. */
export type LineEvent =
  /** A whole line, decoded, without its `\n` or `\r\n`. May be empty. */
  | { readonly kind: 'line'; readonly text: string }
  /**
   * A line longer than the cap, reported once, as soon as it is known to be too long; the rest of
   * it, up to its newline, is skipped without being kept. `bytes` is how much of it had been
   * seen when it was reported (more than the cap), not its full length.
   */
  | { readonly kind: 'too-long'; readonly bytes: number }
  /** A whole line within the cap whose bytes are not UTF-8. */
  | { readonly kind: 'not-utf8' };

export interface LineSplitterInit {
  /** The longest line accepted, in bytes, not counting its `\n` or `\r\n`. */
  maxLineBytes: number;
}

/**
 * Splits a byte stream into lines: `push` each chunk as it arrives and act on the events it
 * answers; `end` when the stream ends. At most `maxLineBytes + 1` bytes are ever held (the one
 * extra may be a `\r` that turns out to belong to `\r\n`).
 */
export class LineSplitter {
  private readonly maxLineBytes: number;
  private pieces: Uint8Array[] = [];
  private heldBytes = 0;
  /** Inside a line already reported too long: drop bytes until its newline. */
  private skipping = false;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor({ maxLineBytes }: LineSplitterInit) {
    this.maxLineBytes = maxLineBytes;
  }

  /** Bytes of an unfinished line held now; never more than `maxLineBytes + 1`. */
  get bufferedBytes(): number {
    return this.heldBytes;
  }

  /** Whether part of a line is held: a stream that ends now ends inside a line. */
  get hasPartialLine(): boolean {
    return this.heldBytes > 0 || this.skipping;
  }

  push(chunk: Uint8Array): LineEvent[] {
    const events: LineEvent[] = [];
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(LF, start);
      const end = newline === -1 ? chunk.length : newline;
      if (this.skipping) {
        if (newline !== -1) this.skipping = false;
      } else if (newline === -1) {
        this.hold(chunk.subarray(start, end), events);
      } else {
        events.push(this.finish(chunk.subarray(start, end)));
      }
      start = end + 1;
    }
    return events;
  }

  /**
   * The stream ended: a last line without a newline is delivered like any other (a peer may
   * write its final request and half-close without one).
   */
  end(): LineEvent[] {
    const partial = this.heldBytes > 0;
    this.skipping = false;
    return partial ? [this.finish(new Uint8Array(0))] : [];
  }

  private hold(bytes: Uint8Array, events: LineEvent[]): void {
    if (bytes.length === 0) return;
    const seen = this.heldBytes + bytes.length;
    // One byte over the cap may still be the `\r` of a `\r\n`; two over cannot.
    if (seen > this.maxLineBytes + 1) {
      this.drop();
      this.skipping = true;
      events.push({ kind: 'too-long', bytes: seen });
      return;
    }
    // A copy: the stream may reuse the chunk's memory once the handler returns.
    this.pieces.push(Uint8Array.from(bytes));
    this.heldBytes = seen;
  }

  private finish(tail: Uint8Array): LineEvent {
    const total = this.heldBytes + tail.length;
    if (total > this.maxLineBytes + 1) {
      this.drop();
      return { kind: 'too-long', bytes: total };
    }
    const line = this.pieces.length === 0 ? tail : concat([...this.pieces, tail], total);
    this.drop();
    const length = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
    if (length > this.maxLineBytes) return { kind: 'too-long', bytes: total };
    try {
      return { kind: 'line', text: this.decoder.decode(line.subarray(0, length)) };
    } catch {
      return { kind: 'not-utf8' };
    }
  }

  private drop(): void {
    this.pieces = [];
    this.heldBytes = 0;
  }
}

function concat(pieces: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}

/**
 * One JSON value as one line. JSON.stringify escapes every newline inside strings, so the only
 * `\n` is the terminator. Throws a TypeError for what JSON cannot hold (a BigInt, a cycle) or
 * for `undefined`, which has no JSON form at all.
 */
export function encodeLine(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError('undefined has no JSON form');
  return `${text}\n`;
}

/** The part of a socket a {@link LineWriter} needs: `net.Socket` has it. */
export interface LineSink {
  write(data: string): boolean;
  /** Bytes accepted by `write` and not yet handed to the kernel. */
  readonly writableLength: number;
  readonly writable: boolean;
}

export interface LineWriterInit {
  /**
   * The most a peer that does not read may leave queued, in bytes. A line is always accepted onto
   * an empty queue, whatever its size, so one large answer never trips this by itself.
   */
  maxBufferedBytes: number;
  /** Called once, instead of writing, when a line would take the queue past the cap. */
  onOverflow(buffered: number): void;
}

/**
 * Writes one JSON value per line and never waits: a peer that does not read gets its queue
 * filled up to the cap and then `onOverflow` (the server destroys the connection there), so the
 * writer never blocks and its memory stays bounded.
 */
export class LineWriter {
  private overflowed = false;

  constructor(
    private readonly sink: LineSink,
    private readonly init: LineWriterInit,
  ) {}

  /** False when the line was not written: the sink is closed or over its cap. */
  write(value: unknown): boolean {
    const line = encodeLine(value);
    if (this.overflowed || !this.sink.writable) return false;
    const buffered = this.sink.writableLength;
    if (buffered > 0 && buffered + Buffer.byteLength(line) > this.init.maxBufferedBytes) {
      this.overflowed = true;
      this.init.onOverflow(buffered);
      return false;
    }
    this.sink.write(line);
    return true;
  }
}
