import { describe, expect, it } from 'vitest';
import { copyPlain } from '../../src/shared/copy-plain.js';

describe('copyPlain', () => {
  it('copies plain objects and arrays deeply, keeping key order and undefined fields', () => {
    const value = {
      b: 1,
      a: [
        { c: 'x', d: undefined },
        { c: 'y', d: null },
      ],
      e: { f: { g: 2 } },
    };
    const copy = copyPlain(value);
    expect(copy).toEqual(value);
    expect(Object.keys(copy)).toEqual(['b', 'a', 'e']);
    expect('d' in copy.a[0]!).toBe(true);
    copy.a[0]!.c = 'changed';
    copy.e.f.g = 3;
    expect(value.a[0]!.c).toBe('x');
    expect(value.e.f.g).toBe(2);
  });

  it('copies what is not plain as structuredClone does, and refuses functions', () => {
    const when = new Date('2026-12-03T00:00:00.000Z');
    const copy = copyPlain({ when, bytes: new Uint8Array([1, 2]) });
    expect(copy.when).toEqual(when);
    expect(copy.when).not.toBe(when);
    expect(copy.bytes).toEqual(new Uint8Array([1, 2]));
    expect(() => copyPlain({ content: { toJSON: () => 'x' } })).toThrow();
    expect(() => copyPlain([() => 1])).toThrow();
  });
});
