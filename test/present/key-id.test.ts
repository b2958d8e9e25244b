import { describe, expect, it } from 'vitest';
import { maskKeyId } from '../../src/present/key-id.js';

describe('maskKeyId', () => {
  it('keeps the prefix that says the kind of key and the last four characters', () => {
    expect(maskKeyId('AKIAIOSFODNN7EXAMPLE')).toBe('AKIA…MPLE');
  });

  // Issue 7, hole 12: a secret pasted where the key id belongs must show nothing of itself.
  it.each(['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'abcdefghijklmnopqrst', 'AKIA 1234567890123', '', 'AKIA'])('shows nothing of %j, which is not shaped like a key id', (value) => {
    const shown = maskKeyId(value);
    expect(shown).toBe('[not a key id]');
  });
});
