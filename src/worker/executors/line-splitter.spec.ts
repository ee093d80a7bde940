import { describe, expect, it } from '@jest/globals';
import { cutLine, cutText, LineSplitter } from './line-splitter.js';

function split(chunks: (string | Buffer)[], keepBytes = 1000): [string, number][] {
  const lines: [string, number][] = [];
  const sut = new LineSplitter(keepBytes, (head, total) => lines.push([head.toString('utf8'), total]));
  for (const chunk of chunks) sut.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  sut.end();
  return lines;
}

describe(LineSplitter.name, () => {
  it('joins partial lines across chunks and keeps empty lines', () => {
    expect(split(['a', 'b\nc', '\n\nd\n'])).toEqual([
      ['ab', 2],
      ['c', 1],
      ['', 0],
      ['d', 1],
    ]);
  });

  it('emits a last line without a newline at the end, and nothing more after a final newline', () => {
    expect(split(['x\ny'])).toEqual([
      ['x', 1],
      ['y', 1],
    ]);
    expect(split(['x\n'])).toEqual([['x', 1]]);
    expect(split([])).toEqual([]);
  });

  it('drops the CR of CRLF line ends', () => {
    expect(split(['one\r\ntwo\r', '\n'])).toEqual([
      ['one', 3],
      ['two', 3],
    ]);
  });

  it('keeps a character whose bytes arrive in different chunks', () => {
    const euro = Buffer.from('€');
    expect(split([euro.subarray(0, 1), euro.subarray(1), '\n'])).toEqual([['€', 3]]);
  });

  it('holds only keepBytes of a long line but reports its full length', () => {
    expect(split(['abc', 'def', 'ghi\nok'], 4)).toEqual([
      ['abcd', 9],
      ['ok', 2],
    ]);
  });
});

describe(cutLine.name, () => {
  it('leaves a line within the limit alone', () => {
    expect(cutLine(Buffer.from('hello'), 5, 5)).toBe('hello');
  });

  it('cuts a longer line to the limit, marker included', () => {
    const line = cutText('x'.repeat(200), 60);
    expect(line).toBe(`${'x'.repeat(25)} …[truncated: line was 200 bytes]`);
    expect(Buffer.byteLength(line)).toBe(60);
  });

  it('cuts on a character boundary', () => {
    const line = cutText('é'.repeat(100), 62);
    expect(line).toBe(`${'é'.repeat(13)} …[truncated: line was 200 bytes]`);
    expect(Buffer.byteLength(line)).toBe(61);
  });
});
