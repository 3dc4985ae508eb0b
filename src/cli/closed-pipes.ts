import { Writable } from 'node:stream';

/** The reader of the pipe went away (EPIPE), or the stream was already torn down after that. */
const isClosedPipe = (err: NodeJS.ErrnoException): boolean => err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED';

/**
 * `mailprobe … | head -1`: when the reader of stdout (or stderr) goes away,
 * writes fail with EPIPE, which Node raises as an unhandled 'error' event: a
 * stack trace and exit 1, read by CI as a broken server. A closed pipe is the
 * reader's choice, so later writes to it are dropped in silence, and the
 * process goes on: a run still cleans up what it created on the server and
 * writes its file reports, and exits with its own code.
 */
export function endQuietlyOnClosedPipes(streams: readonly NodeJS.WriteStream[]): { readonly failed: () => boolean } {
  let failed = false;
  for (const stream of streams) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (isClosedPipe(err)) return;
      // Anything else (a full disk behind a redirect) is a report that could not be written: said once, exit 3.
      if (!failed && stream !== process.stderr) process.stderr.write(`mailprobe: cannot write output: ${err.message}\n`);
      failed = true;
    });
  }
  return { failed: () => failed };
}

/**
 * stdout as the reporters get it: a reporter awaits its write, and a write
 * refused because the reader left would count as a reporter that crashed
 * (exit 3). Here it succeeds, and later writes are dropped, as for the
 * process's own writes (endQuietlyOnClosedPipes).
 */
export function dropWhenClosed(target: NodeJS.WritableStream): NodeJS.WritableStream {
  let closed = false;
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (closed) return callback();
      target.write(chunk, (err?: Error | null) => {
        if (err && isClosedPipe(err)) closed = true;
        callback(err && !closed ? err : null);
      });
    },
  });
}
