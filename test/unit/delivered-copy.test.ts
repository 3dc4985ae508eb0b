import { describe, expect, it } from 'vitest';
import { compareDeliveredCopy } from '../../src/expectations/delivered-copy.js';

describe('compareDeliveredCopy', () => {
  const sent = Buffer.from('Subject: hi\r\n\r\nbody\r\n');

  it('accepts trace fields above the sent bytes', () => {
    const received = Buffer.concat([Buffer.from('Return-Path: <a@b>\r\nReceived: by x\r\n\tfolded\r\n'), sent]);
    expect(compareDeliveredCopy(sent, received)).toMatchObject({ identical: true, addedHeaders: ['Return-Path', 'Received'] });
  });

  it('names a non-header line in front of the message, cut with an ellipsis when long', () => {
    const junk = `junk ${'x'.repeat(200)}`;
    const result = compareDeliveredCopy(sent, Buffer.concat([Buffer.from(`${junk}\r\n`), sent]));
    expect(result.identical).toBe(false);
    // Cut at 80 characters, and the cut is shown: the reader must not take the fragment for the whole line.
    expect(result.difference).toBe(`the server put a non-header line in front of the message: ${JSON.stringify(`${junk.slice(0, 80)}…`)}`);
  });
});
