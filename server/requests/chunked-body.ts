/**
 * Where a `Transfer-Encoding: chunked` body ends (RFC 9112 §7.1), found as its bytes stream past: the proxy
 * forwards the bytes as they are and needs only to know the end of the message, never to hold it. Strict
 * like the head parser: hex sizes, CRLF only, no control characters in extensions or trailers.
 */

enum State {
  Size,
  Extension,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  Trailer,
  TrailerLf,
  EndLf,
  Done,
  Failed,
}

/** The end of the body lies past this chunk: more bytes are needed. */
export const CHUNKED_MORE = -1;
/** The bytes are not a chunked body. */
export const CHUNKED_INVALID = -2;

/** Hex digits of a chunk size: 13 make 2^52, past any body. */
const MAX_SIZE_DIGITS = 13;
/** The bytes of one size line's extension or one trailer line. */
const MAX_LINE = 4096;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** Visible ASCII, obs-text, SP and HTAB: what an extension or trailer line may hold. */
const isLineByte = (c: number) => c === 0x09 || (c >= 0x20 && c !== 0x7f);

export class ChunkedBody {
  private state = State.Size;
  private size = 0;
  private digits = 0;
  private line = 0;

  /** Whether the whole body has been seen. */
  get done(): boolean {
    return this.state === State.Done;
  }

  /**
   * Reads `chunk` from `from`: the index just past the body's last byte when it ends in this chunk,
   * CHUNKED_MORE when all of it belongs to the body, CHUNKED_INVALID when it breaks the framing.
   */
  feed(chunk: Uint8Array, from = 0): number {
    let i = from;
    const end = chunk.length;
    while (i < end) {
      switch (this.state) {
        case State.Data: {
          const take = Math.min(this.size, end - i);
          this.size -= take;
          i += take;
          if (this.size === 0) this.state = State.DataCr;
          continue;
        }
        case State.Size: {
          const c = chunk[i] as number;
          const digit = hexValue(c);
          if (digit >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) return this.fail();
            this.size = this.size * 16 + digit;
          } else if (this.digits === 0) return this.fail();
          else if (c === 0x3b) {
            this.state = State.Extension;
            this.line = 0;
          } else if (c === 0x0d) this.state = State.SizeLf;
          else return this.fail();
          break;
        }
        case State.Extension: {
          const c = chunk[i] as number;
          if (c === 0x0d) this.state = State.SizeLf;
          else if (!isLineByte(c) || ++this.line > MAX_LINE) return this.fail();
          break;
        }
        case State.SizeLf:
          if (chunk[i] !== 0x0a) return this.fail();
          this.digits = 0;
          this.state = this.size === 0 ? State.TrailerStart : State.Data;
          break;
        case State.DataCr:
          if (chunk[i] !== 0x0d) return this.fail();
          this.state = State.DataLf;
          break;
        case State.DataLf:
          if (chunk[i] !== 0x0a) return this.fail();
          this.state = State.Size;
          break;
        case State.TrailerStart: {
          const c = chunk[i] as number;
          if (c === 0x0d) this.state = State.EndLf;
          else if (c === 0x20 || c === 0x09 || !isLineByte(c))
            return this.fail(); // no folded trailer lines
          else {
            this.state = State.Trailer;
            this.line = 1;
          }
          break;
        }
        case State.Trailer: {
          const c = chunk[i] as number;
          if (c === 0x0d) this.state = State.TrailerLf;
          else if (!isLineByte(c) || ++this.line > MAX_LINE) return this.fail();
          break;
        }
        case State.TrailerLf:
          if (chunk[i] !== 0x0a) return this.fail();
          this.state = State.TrailerStart;
          break;
        case State.EndLf:
          if (chunk[i] !== 0x0a) return this.fail();
          this.state = State.Done;
          return i + 1;
        default:
          return this.state === State.Done ? i : CHUNKED_INVALID;
      }
      i++;
    }
    return CHUNKED_MORE;
  }

  private fail(): number {
    this.state = State.Failed;
    return CHUNKED_INVALID;
  }
}
